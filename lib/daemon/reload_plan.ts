/** What a reload must do: old configs × newly loaded ones (pure). */
import type { InvalidFile, LoadResult } from "../config/load.ts";
import { compareNames, type ServerConfig } from "../config/schema.ts";

/** The plan of one reload. Names are sorted. */
export interface ReloadPlan {
  readonly added: readonly ServerConfig[];
  readonly removed: readonly string[];
  readonly changed: readonly ServerConfig[];
  readonly unchanged: readonly string[];
  readonly invalid: readonly InvalidFile[];
}

/**
 * Compares normalised configs: key order, whitespace and comments do not
 * count, argument order does. A file that became invalid is neither removed
 * nor changed: its server keeps running as it was.
 */
export function planReload(current: readonly ServerConfig[], loaded: LoadResult): ReloadPlan {
  const old = new Map(current.map((c) => [c.name, c]));
  const fresh = new Map(loaded.configs.map((c) => [c.name, c]));
  const invalidNames = new Set(loaded.invalid.map((f) => f.name));
  const added: ServerConfig[] = [];
  const changed: ServerConfig[] = [];
  const unchanged: string[] = [];
  for (const [name, config] of fresh) {
    const before = old.get(name);
    if (!before) added.push(config);
    else if (normalise(before) === normalise(config)) unchanged.push(name);
    else changed.push(config);
  }
  const removed = [...old.keys()].filter((n) => !fresh.has(n) && !invalidNames.has(n));
  const byName = (a: { name: string }, b: { name: string }) => compareNames(a.name, b.name);
  return {
    added: added.sort(byName),
    removed: removed.sort(compareNames),
    changed: changed.sort(byName),
    unchanged: unchanged.sort(compareNames),
    invalid: loaded.invalid,
  };
}

/** A canonical text of a config: object keys sorted, arrays in order. */
export function normalise(config: ServerConfig): string {
  return JSON.stringify(config, (_key, value) => {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)));
    }
    return value;
  });
}
