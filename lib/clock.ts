/** Time and timers as a port, so pure logic and tests can run on a fake clock. */

/** Whatever a clock's `setTimeout` returns. */
export type TimerId = ReturnType<typeof setTimeout>;

/** Time and timers, injectable. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId): void;
}

/** The longest delay `setTimeout` takes; longer ones would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The real clock. A delay past {@link MAX_TIMER_MS} fires at that bound, and the machine sets it again. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.min(ms, MAX_TIMER_MS)),
  clearTimeout: (id) => clearTimeout(id),
};
