/** Durations (`"500ms"`, `"1m"`) and sizes (`"10MiB"`) as written in configs. */

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
};

/**
 * The longest duration a config may give: a day. Anything longer is a typo,
 * and timers past 2^31 ms would overflow and fire at once.
 */
export const MAX_DURATION_MS = 24 * 3_600_000;

/** Parses a duration into milliseconds, or returns undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text.trim());
  if (!m) return undefined;
  const value = Number(m[1]) * DURATION_UNITS[m[2]!]!;
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Parses a size into bytes, or returns undefined when malformed. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+)(B|KiB|MiB|GiB)$/.exec(text.trim());
  if (!m) return undefined;
  const value = Number(m[1]) * SIZE_UNITS[m[2]!]!;
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Formats milliseconds the way a person reads them: `850ms`, `12s`, `3m 4s`, `2h 5m`, `3d 4h`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m ${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d ${h % 24}h` : `${d}d`;
}

/**
 * A configured duration, exactly: in whole units where it has them, else in
 * milliseconds as it may have been written (1500 → "1500ms", not "1s").
 */
export function formatSetting(ms: number): string {
  return ms % 1000 === 0 ? formatDuration(ms) : `${ms}ms`;
}
