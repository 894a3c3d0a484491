/**
 * Starting and stopping servers in `depends-on` order (docs/ARCHITECTURE.md,
 * "Dependencies"). Starting a server starts its dependencies first; a server
 * whose dependencies are not up yet — running and, where they have health
 * checks, ready — is `blocked`, with no process, until they are. Stopping a
 * server stops what depends on it first. The order comes from
 * dependencies.ts; the lock that keeps this from racing reloads is Control's.
 */
import type { ServerHost } from "../supervisor/hosting/host.ts";
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
export interface Waiting {
  readonly name: string;
  readonly state: string;
  readonly waiting?: readonly Waiting[];
}

/** True when `s` counts as up for its dependents: running, and not failing its probes. */
export function satisfies(s: Snapshot): boolean {
  return s.state === "running" && s.health.status !== "unhealthy";
}

/** Dependency-ordered starts and stops over a registry. */
export class Orchestrator {
  readonly #registry: Registry;
  /** Servers asked to start whose dependencies are not up yet. */
  readonly #blocked = new Set<string>();
  /**
   * Servers of a start under way that its waves have not reached yet: while
   * their dependencies are not up they are shown blocked (a boot's dependents
   * would read `stopped` until the wave before theirs is done).
   */
  readonly #queued = new Set<string>();

  constructor(registry: Registry) {
    this.#registry = registry;
  }

  /** What `name` waits for while blocked; null when it is not blocked. */
  waitingFor(name: string): Waiting[] | null {
    return this.#waitingFor(name, this.#graph(), new Set());
  }

  #waitingFor(name: string, graph: Graph, seen: Set<string>): Waiting[] | null {
    const blocked = this.#blocked.has(name);
    if ((!blocked && !this.#queued.has(name)) || seen.has(name)) return null;
    seen.add(name);
    const waits = (graph.get(name) ?? []).flatMap((d): Waiting[] => {
      const host = this.#registry.find(d);
      if (host && satisfies(host.status)) return [];
      const invalid = this.#registry.invalid.some((f) => f.name === d);
      if (!host) return [{ name: d, state: invalid ? "invalid" : "missing" }];
      // A dependency that is blocked itself is shown so, with what holds it back.
      const inner = this.#waitingFor(d, graph, seen);
      if (inner === null) return [{ name: d, state: host.status.state }];
      return [{ name: d, state: "blocked", ...(inner.length ? { waiting: inner } : {}) }];
    });
    return blocked || waits.length > 0 ? waits : null;
  }

  /** The blocked servers that `name` coming up may unblock. */
  unblockedBy(name: string): string[] {
    // Asked on every snapshot of every server: most of the time nothing is blocked.
    if (this.#blocked.size === 0) return [];
    const graph = this.#graph();
    return [...this.#blocked].filter((b) => (graph.get(b) ?? []).includes(name) && this.#depsUp(b));
  }

  /** Forgets that `name` was blocked (it was stopped, removed or replaced). */
  forget(name: string): void {
    this.#blocked.delete(name);
  }

  /** True while `name` is blocked. */
  isBlocked(name: string): boolean {
    return this.#blocked.has(name);
  }

  /**
   * Starts (or restarts) `names` and, first, the dependencies of theirs that
   * are not up, wave by wave; one whose dependencies are not up yet is blocked.
   */
  async start(names: readonly string[], kind: "start" | "restart"): Promise<Outcome[]> {
    const graph = this.#graph();
    const asked = new Set(names);
    const outcomes: Outcome[] = [];
    const waves = startWaves(graph, withDependencies(graph, names));
    const queued = waves.slice(1).flat().filter((n) => !this.#registry.find(n)?.isUp);
    for (const name of queued) this.#queued.add(name);
    try {
      for (const wave of waves) {
        outcomes.push(
          ...await Promise.all(wave.flatMap((name) => {
            this.#queued.delete(name);
            const host = this.#registry.find(name);
            // A dependency that is up already, or has no valid config, is left as it is.
            if (!host || (!asked.has(name) && (host.isUp || this.#blocked.has(name)))) return [];
            return [this.#startOne(host, asked.has(name) ? kind : "start", !asked.has(name))];
          })),
        );
      }
    } finally {
      for (const name of queued) this.#queued.delete(name);
    }
    return outcomes;
  }

  /** Stops `names` and, first, the servers that depend on them; each wave in parallel. */
  async stop(names: readonly string[], kind: "stop" | "shutdown"): Promise<Outcome[]> {
    const graph = this.#graph();
    const asked = new Set(names);
    const outcomes: Outcome[] = [];
    for (const wave of stopWaves(graph, withDependents(graph, names))) {
      outcomes.push(
        ...await Promise.all(wave.flatMap((name) => {
          const host = this.#registry.find(name);
          const wasBlocked = this.#blocked.delete(name);
          const cascade = !asked.has(name);
          // A dependent that is not running has nothing to stop.
          if (!host || (cascade && !host.isUp && kind === "stop")) {
            const stopped: Outcome = { name, result: "stopped", cascade: true };
            return wasBlocked ? [Promise.resolve(stopped)] : [];
          }
          return [this.#run(host, kind, cascade, wasBlocked)];
        })),
      );
    }
    return outcomes;
  }

  async #startOne(host: ServerHost, kind: "start" | "restart", cascade: boolean): Promise<Outcome> {
    if (!this.#depsUp(host.name)) {
      this.#blocked.add(host.name);
      // A restart of a server whose dependencies are down: it stops, and waits for them.
      if (kind === "restart" && host.isUp) {
        const stopped = await this.#run(host, "stop", cascade, false);
        if ("error" in stopped) return stopped;
      }
      return { name: host.name, result: "blocked", ...(cascade ? { cascade } : {}) };
    }
    this.#blocked.delete(host.name);
    return await this.#run(host, kind, cascade, false);
  }

  async #run(
    host: ServerHost,
    kind: "start" | "restart" | "stop" | "shutdown",
    cascade: boolean,
    wasBlocked: boolean,
  ): Promise<Outcome> {
    const c = cascade ? { cascade: true as const } : {};
    try {
      const result = await host.request({ kind });
      // A blocked server had no process, yet stopping it is what was asked: it is stopped.
      return {
        name: host.name,
        result: wasBlocked && result === "not_running" ? "stopped" : result,
        ...c,
      };
    } catch (error) {
      return { name: host.name, error, ...c };
    }
  }

  #depsUp(name: string): boolean {
    return (this.#graph().get(name) ?? []).every((d) => {
      const host = this.#registry.find(d);
      return host !== undefined && satisfies(host.status);
    });
  }

  #graph(): Graph {
    return graphOf(this.#registry.hosts.map((h) => h.config));
  }
}
