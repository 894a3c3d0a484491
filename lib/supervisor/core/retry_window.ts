/** The sliding 60-second window of automatic restarts. */

/** How far back the window looks. */
export const WINDOW_MS = 60_000;

/** The restart times still inside the window at `now`. */
export function pruneWindow(window: readonly number[], now: number): number[] {
  return window.filter((t) => t > now - WINDOW_MS);
}

/**
 * Tries to count one more restart at `now`: allowed while the window holds
 * fewer than `max` restarts, in which case the returned window includes it.
 */
export function admitRestart(
  window: readonly number[],
  opts: { now: number; max: number },
): { allowed: boolean; window: number[] } {
  const live = pruneWindow(window, opts.now);
  if (live.length >= opts.max) return { allowed: false, window: live };
  return { allowed: true, window: [...live, opts.now] };
}
