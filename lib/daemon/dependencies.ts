/**
 * The `depends-on` graph (pure): in what order servers start and stop. A
 * server starts after its dependencies, and starting it starts them (as
 * systemd's `Requires=` does); a server stops after its dependents, and
 * stopping it stops them. The graph has no cycles: config loading refuses them.
 */
import { compareNames } from "../config/schema.ts";

/** Each server's direct dependencies. */
export type Graph = ReadonlyMap<string, readonly string[]>;

/** The graph of `configs`. */
export function graphOf(configs: Iterable<{ name: string; dependsOn: readonly string[] }>): Graph {
  return new Map([...configs].map((c) => [c.name, c.dependsOn]));
}

/** `names` and everything they depend on, directly or not. */
export function withDependencies(graph: Graph, names: Iterable<string>): Set<string> {
  const out = new Set<string>();
  const visit = (n: string) => {
    if (out.has(n)) return;
    out.add(n);
    for (const d of graph.get(n) ?? []) visit(d);
  };
  for (const n of names) visit(n);
  return out;
}

/** `names` and everything that depends on them, directly or not. */
export function withDependents(graph: Graph, names: Iterable<string>): Set<string> {
  const out = new Set(names);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [n, deps] of graph) {
      if (!out.has(n) && deps.some((d) => out.has(d))) {
        out.add(n);
        grew = true;
      }
    }
  }
  return out;
}

/**
 * `names` in waves to start: each wave's servers depend only on servers of
 * earlier waves (or outside `names`), so a wave can start in parallel.
 */
export function startWaves(graph: Graph, names: Iterable<string>): string[][] {
  const set = new Set(names);
  const depth = new Map<string, number>();
  const depthOf = (n: string): number => {
    const known = depth.get(n);
    if (known !== undefined) return known;
    depth.set(n, 0); // a cycle (refused at load) must not recurse forever
    const d = Math.max(-1, ...(graph.get(n) ?? []).filter((x) => set.has(x)).map(depthOf)) + 1;
    depth.set(n, d);
    return d;
  };
  const waves: string[][] = [];
  for (const n of [...set].sort(compareNames)) (waves[depthOf(n)] ??= []).push(n);
  return waves.filter((w) => w.length > 0);
}

/** `names` in waves to stop: dependents before what they depend on. */
export function stopWaves(graph: Graph, names: Iterable<string>): string[][] {
  return startWaves(graph, names).reverse();
}
