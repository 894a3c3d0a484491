/**
 * Waiting with a deadline — the one place such waits are written, as Deno's
 * std keeps `async/deadline.ts`: for a promise that may never settle
 * ({@link deadline}, which can also give up on one that stops making
 * progress), or for a condition nothing announces, checked with a doubling
 * delay ({@link pollUntil}: a process group emptying, a daemon starting to
 * answer). Both run on a {@link Clock}, the real one unless a test passes its
 * own. A request that must itself be cancelled at its deadline (a `fetch`)
 * takes an `AbortSignal.timeout` instead: the platform's way to stop it, not
 * only to stop waiting for it.
 */
import { type Clock, systemClock, type TimerId } from "./clock.ts";

/** A wait that ran out, when the caller gave no error of its own. */
export class DeadlineError extends Error {
  override readonly name = "DeadlineError";
}

/** Options of {@link deadline}. */
export interface DeadlineOptions<T> {
  /** The error the wait fails with when time runs out (default: a {@link DeadlineError}). */
  readonly onTimeout?: () => Error;
  /** Receives what the promise yields after the deadline (to close a connection that came too late). */
  readonly late?: (value: T) => void;
  /**
   * Gives up sooner, once `progress()` has not changed for `ms`: a peer that
   * keeps making progress is waited for up to the deadline, one that stopped
   * is not.
   */
  readonly stall?: { readonly ms: number; readonly progress: () => number };
  readonly clock?: Clock;
}

/** `promise`, or the error of `opts.onTimeout` once `ms` passed (or progress stalled). */
export function deadline<T>(
  promise: Promise<T>,
  ms: number,
  opts: DeadlineOptions<T> = {},
): Promise<T> {
  const clock = opts.clock ?? systemClock;
  return new Promise<T>((resolve, reject) => {
    let over = false;
    let timer: TimerId | undefined;
    const end = clock.now() + ms;
    let seen = opts.stall?.progress();
    const check = () => {
      const now = clock.now();
      const stalled = opts.stall !== undefined && opts.stall.progress() === seen;
      if (now >= end || stalled) {
        over = true;
        reject(opts.onTimeout?.() ?? new DeadlineError(`no answer within ${ms}ms`));
        return;
      }
      seen = opts.stall?.progress();
      arm(now);
    };
    // One timer at a time: at the next stall check, or at the deadline, whichever is first.
    const arm = (now: number) => {
      timer = clock.setTimeout(check, Math.min(end - now, opts.stall?.ms ?? Infinity));
    };
    arm(clock.now());
    promise.then(
      (value) => {
        if (timer !== undefined) clock.clearTimeout(timer);
        if (over) opts.late?.(value);
        else resolve(value);
      },
      (e) => {
        if (timer !== undefined) clock.clearTimeout(timer);
        if (!over) reject(e);
      },
    );
  });
}

/** Options of {@link pollUntil}. */
export interface PollOptions {
  /** Give up after this long. */
  readonly timeoutMs: number;
  /** The first wait between checks (default 5 ms); it doubles each time. */
  readonly firstDelayMs?: number;
  /** The longest wait between checks (default 100 ms). */
  readonly maxDelayMs?: number;
  readonly clock?: Clock;
}

/**
 * Calls `check` until it returns something other than `undefined`, `null` or
 * `false`, and returns that; returns `undefined` once `timeoutMs` passed. The
 * check always runs at least once, and once more at the deadline. What
 * `check` throws is thrown.
 */
export async function pollUntil<T>(
  check: () => T | Promise<T>,
  opts: PollOptions,
): Promise<Exclude<T, undefined | null | false> | undefined> {
  const clock = opts.clock ?? systemClock;
  const end = clock.now() + opts.timeoutMs;
  let delay = opts.firstDelayMs ?? 5;
  const maxDelay = opts.maxDelayMs ?? 100;
  while (true) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) {
      return value as Exclude<T, undefined | null | false>;
    }
    const left = end - clock.now();
    if (left <= 0) return undefined;
    await new Promise<void>((r) => clock.setTimeout(r, Math.min(delay, left)));
    delay = Math.min(delay * 2, maxDelay);
  }
}
