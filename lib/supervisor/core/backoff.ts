/** Exponential backoff: `initial`, doubling per consecutive restart, capped at `max`. */
export function backoffDelay(attempt: number, opts: { initialMs: number; maxMs: number }): number {
  if (opts.initialMs <= 0) return 0;
  // 2 ** attempt overflows to Infinity for big attempts; Math.min caps it either way.
  return Math.min(opts.maxMs, opts.initialMs * 2 ** Math.max(0, attempt));
}
