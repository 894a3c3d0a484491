/**
 * Waiting for a condition that nothing announces (a process group emptying, a
 * daemon starting to answer): check, then wait a doubling delay, until a
 * deadline. The one place such a loop is written.
 */

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

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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
  const sleep = opts.sleep ?? realSleep;
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
