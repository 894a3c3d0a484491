/**
 * Waiting with a deadline: for a condition that nothing announces (a process
 * group emptying, a daemon starting to answer), checked with a doubling delay;
 * or for a promise that may never settle. The one place such waits are written.
 */
import { sleep as timerSleep, timers } from "./timers.ts";

/** Options of {@link pollUntil}. */
export interface PollOptions {
  /** Give up after this long. */
  readonly timeoutMs: number;
  /** The first wait between checks (default 5 ms); it doubles each time. */
  readonly firstDelayMs?: number;
  /** The longest wait between checks (default 100 ms). */
  readonly maxDelayMs?: number;
  /** Time source, for tests. */
  readonly now?: () => number;
  /** Waits `ms`, for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
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
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? timerSleep;
  const deadline = now() + opts.timeoutMs;
  let delay = opts.firstDelayMs ?? 5;
  const maxDelay = opts.maxDelayMs ?? 100;
  while (true) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) {
      return value as Exclude<T, undefined | null | false>;
    }
    const left = deadline - now();
    if (left <= 0) return undefined;
    await sleep(Math.min(delay, left));
    delay = Math.min(delay * 2, maxDelay);
  }
}

/**
 * `promise`, or the error `onTimeout` makes once `ms` passed. What the promise
 * yields after that goes to `late` (to close a connection that came too late).
 */
export function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  opts: { onTimeout: () => Error; late?: (value: T) => void },
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timedOut = false;
    const timer = timers.set(() => {
      timedOut = true;
      reject(opts.onTimeout());
    }, ms);
    promise.then(
      (value) => {
        timers.clear(timer);
        if (timedOut) opts.late?.(value);
        else resolve(value);
      },
      (e) => {
        timers.clear(timer);
        if (!timedOut) reject(e);
      },
    );
  });
}
