/** Time and timers as a port, so pure logic and tests can run on a fake clock. */
import { type Timer, timers } from "./timers.ts";

declare const timerBrand: unique symbol;
/** Whatever a clock's `setTimeout` returns, to clear it with. */
export type TimerId = { readonly [timerBrand]: true };

/** Time and timers, injectable. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId): void;
}

/** The longest delay `setTimeout` takes; longer ones would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The real clock, on timers.ts (which does not load Deno's Node timers). A
 * delay past {@link MAX_TIMER_MS} fires at that bound, and the machine sets it
 * again.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => timers.set(fn, Math.min(ms, MAX_TIMER_MS)) as unknown as TimerId,
  clearTimeout: (id) => timers.clear(id as unknown as Timer),
};
