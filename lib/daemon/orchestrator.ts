/**
 * Starting and stopping servers in `depends-on` order (docs/ARCHITECTURE.md,
 * "Dependencies"), as systemd's job engine does: the order is this file's,
 * every state is the machine's. Starting a server starts its dependencies
 * first, wave by wave; a start says whether the server's dependencies are up
 * — running and, where they have health checks, ready — and a server whose
 * dependencies are not goes `blocked` in its machine, with no process. When
 * a snapshot shows a dependency up, the blocked servers whose dependencies
 * are now all up are told (`deps_up`) and spawn. Stopping a server stops
 * what depends on it first. The lock that keeps this from racing reloads is
 * the fleet's (fleet.ts).
 */
import type { ServerHandle } from "../supervisor/hosting/host.ts";
import type { Snapshot } from "../supervisor/core/snapshot.ts";
import {
  type Graph,
  graphOf,
  startWaves,
  stopWaves,
  withDependencies,
  withDependents,
} from "./dependencies.ts";
import type { Registry } from "./registry.ts";

/** What one server answered, or failed with; `cascade` when it was not asked for by name. */
export type Outcome =
  | { readonly name: string; readonly result: string; readonly cascade?: true }
  | { readonly name: string; readonly error: unknown; readonly cascade?: true };

/**
 * A dependency a blocked server waits for, and the state it shows; when it
 * is blocked itself, what it waits for in turn, down to the root cause.
 */
export interface BlockedOn {
  readonly name: string;
  readonly state: string;
  readonly blockedOn?: readonly BlockedOn[];
}

/** True when `s` counts as up for its dependents: running, and not failing its probes. */
export function satisfies(s: Snapshot): boolean {
  return s.state === "running" && s.health.status !== "unhealthy";
}

/** Dependency-ordered starts and stops over a registry. */
export class Orchestrator {
  readonly #registry: Registry;
  /**
   * Servers a start under way has blocked ahead of their wave (so a boot's
   * dependents show `blocked`, not `stopped`, while the waves before theirs
   * run): that start starts them in their wave, not a snapshot meanwhile.
   */
  readonly #ahead = new Set<string>();

  constructor(registry: Registry) {
    this.#registry = registry;
    registry.watch({ status: (host) => this.#changed(host.name) });
  }

  /** What `name` waits for while blocked; null when it is not blocked. */
  blockedOn(name: string): BlockedOn[] | null {
    return this.#blockedOn(name, this.#graph(), new Set());
  }

  #blockedOn(name: string, graph: Graph, seen: Set<string>): BlockedOn[] | null {
    if (this.#registry.find(name)?.status.state !== "blocked" || seen.has(name)) return null;
    seen.add(name);
    return (graph.get(name) ?? []).flatMap((d): BlockedOn[] => {
      const host = this.#registry.find(d);
      if (host && satisfies(host.status)) return [];
      if (!host) return [{ name: d, state: this.#registry.invalidFile(d) ? "invalid" : "missing" }];
      const inner = this.#blockedOn(d, graph, seen);
      return [{
        name: d,
        state: host.status.state,
        ...(inner?.length ? { blockedOn: inner } : {}),
      }];
    });
  }

  /**
   * Starts (or restarts) `names` and, first, the dependencies of theirs that
   * are not up, wave by wave; one whose dependencies are not up yet is blocked.
   */
  async start(names: readonly string[], kind: "start" | "restart"): Promise<Outcome[]> {
    const graph = this.#graph();
    const asked = new Set(names);
    const waves = startWaves(graph, withDependencies(graph, names));
    // Those of later waves that are to start wait, blocked, from now on.
    const ahead = waves.slice(1).flat().filter((n) => {
      const host = this.#registry.find(n);
      return host !== undefined && !host.isUp;
    });
    await Promise.all(ahead.map((n) => {
      this.#ahead.add(n);
      return this.#registry.find(n)!.request({ kind: "start", depsUp: false }).catch(() => {});
    }));
    const outcomes: Outcome[] = [];
    try {
      for (const wave of waves) {
        outcomes.push(
          ...await Promise.all(wave.flatMap((name) => {
            const wasAhead = this.#ahead.delete(name);
            const host = this.#registry.find(name);
            // A dependency that is up (or waits for its own) already is left as it is.
            if (!host || (!asked.has(name) && !wasAhead && host.isUp)) return [];
            const depsUp = this.#depsUp(name, graph);
            const cascade = !asked.has(name);
            return [this.#run(host, { kind: cascade ? "start" : kind, depsUp }, cascade)];
          })),
        );
      }
    } finally {
      for (const name of ahead) this.#ahead.delete(name);
    }
    return outcomes;
  }

  /** Stops `names` and, first, the servers that depend on them; each wave in parallel. */
  async stop(names: readonly string[]): Promise<Outcome[]> {
    const graph = this.#graph();
    const asked = new Set(names);
    const outcomes: Outcome[] = [];
    for (const wave of stopWaves(graph, withDependents(graph, names))) {
      outcomes.push(
        ...await Promise.all(wave.flatMap((name) => {
          const host = this.#registry.find(name);
          const cascade = !asked.has(name);
          // A dependent that is not meant to be up has nothing to stop.
          if (!host || (cascade && !host.isUp)) return [];
          return [this.#run(host, { kind: "stop" }, cascade)];
        })),
      );
    }
    return outcomes;
  }

  /** A server's snapshot changed: the blocked servers whose dependencies are now all up spawn. */
  #changed(name: string) {
    const hosts = this.#registry.hosts;
    // Heard on every snapshot of every server: most of the time nothing is blocked.
    if (!hosts.some((h) => h.status.state === "blocked")) return;
    const graph = this.#graph();
    for (const h of hosts) {
      if (h.status.state !== "blocked" || this.#ahead.has(h.name)) continue;
      if ((graph.get(h.name) ?? []).includes(name) && this.#depsUp(h.name, graph)) h.depsUp();
    }
  }

  async #run(
    host: ServerHandle,
    command: { kind: "start" | "restart"; depsUp: boolean } | { kind: "stop" },
    cascade: boolean,
  ): Promise<Outcome> {
    const c = cascade ? { cascade: true as const } : {};
    try {
      return { name: host.name, result: await host.request(command), ...c };
    } catch (error) {
      return { name: host.name, error, ...c };
    }
  }

  #depsUp(name: string, graph: Graph): boolean {
    return (graph.get(name) ?? []).every((d) => {
      const host = this.#registry.find(d);
      return host !== undefined && satisfies(host.status);
    });
  }

  #graph(): Graph {
    return graphOf(this.#registry.hosts.map((h) => h.config));
  }
}
