/** Time and timers as a port, so pure logic and tests can run on a fake clock. */

/** Whatever a clock's `setTimeout` returns. */
export type TimerId = ReturnType<typeof setTimeout>;

/** Time and timers, injectable. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId): void;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
};
