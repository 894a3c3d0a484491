/**
 * What the daemon does to its servers as a whole — boot, lifecycle requests,
 * reload, shutdown — through one lock (docs/ARCHITECTURE.md, "The daemon").
 * Boot, reload and shutdown run alone; lifecycle requests run beside each
 * other (each server's machine orders its own) but never beside those. So a
 * SIGHUP during boot waits for it, a shutdown waits for a reload to have
 * stopped what it stops, and once shutdown begins nothing starts again.
 * Starts and stops follow `depends-on` (orchestrator.ts). What it answers is
 * the domain's: the methods of the protocol turn it into the wire (wire.ts).
 */
import { type InvalidFile, loadConfigDir, type LoadResult } from "../config/load.ts";
import { errorMessage } from "../error_message.ts";
import { DomainError } from "../protocol/failures.ts";
import { graphOf, stopWaves } from "./dependencies.ts";
import type { Logger } from "./log.ts";
import { Orchestrator, type Outcome } from "./orchestrator.ts";
import type { Registry } from "./registry.ts";
import { planReload } from "./reload_plan.ts";
import { RwLock } from "./rw_lock.ts";
import type { ServerView } from "./wire.ts";

export type { Outcome } from "./orchestrator.ts";

/** A lifecycle command on servers. */
export type Lifecycle = "start" | "stop" | "restart";

/** Which files a reload reads (all by default), and whether the servers it adds start. */
export interface ReloadScope {
  readonly names?: readonly string[];
  readonly start?: boolean;
}

/** What a reload did: the servers by what happened to them, and the files that do not load. */
export interface ReloadOutcome {
  readonly added: string[];
  readonly removed: string[];
  readonly changed: string[];
  readonly unchanged: string[];
  readonly invalid: readonly InvalidFile[];
}

/** Options of {@link Fleet}. */
export interface FleetOptions {
  readonly configDir: string;
  readonly log: Logger;
  /** Called with each server a reload removed for good. */
  readonly onRemoved?: (name: string) => void;
  /** Reads the config dir (a fake in tests). */
  readonly load?: (dir: string, opts: { keepPorts: ReadonlySet<string> }) => Promise<LoadResult>;
}

/** The daemon's operations on its set of servers. */
export class Fleet {
  readonly registry: Registry;
  readonly #opts: FleetOptions;
  readonly #lock = new RwLock();
  readonly #order: Orchestrator;
  #closing = false;
  #shutdown: Promise<void> | null = null;
  /** A reload asked for and not yet begun: later asks join it. */
  #queuedReload: Promise<ReloadOutcome> | null = null;

  constructor(registry: Registry, opts: FleetOptions) {
    this.registry = registry;
    this.#opts = opts;
    this.#order = new Orchestrator(registry);
  }

  /** True once shutdown began: nothing starts any more. */
  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Boot, alone: the configs, `loaded` (the daemon answers what only reads),
   * then `prepare` (reaping a killed predecessor's children: no server starts
   * before it is done), then the autostart servers, dependencies first.
   */
  boot(prepare: () => Promise<unknown>, loaded: () => void): Promise<void> {
    return this.#lock.exclusive(async () => {
      try {
        await this.#load();
      } finally {
        loaded();
      }
      await prepare();
      const autostart = this.registry.hosts.filter((h) => h.config.autostart);
      await this.#startAll(autostart.map((h) => h.name), "autostart failed");
    });
  }

  /** Every server as it is now, and the files that did not load (of no server). */
  list(): { servers: ServerView[]; invalid: InvalidFile[] } {
    const servers = this.registry.hosts.map((h) => this.#view(h.name, h.status));
    const invalid = this.registry.invalid.filter((f) => !this.registry.find(f.name));
    return { servers, invalid };
  }

  /** One server, with a fresh snapshot asked of its actor. */
  async status(name: string): Promise<ServerView> {
    const host = this.registry.get(name);
    return this.#view(name, await host.request({ kind: "status" }));
  }

  #view(name: string, status: ServerView["status"]): ServerView {
    const host = this.registry.get(name);
    const invalid = this.registry.invalidFile(name);
    return {
      config: host.config,
      status,
      logFile: host.logFile,
      blockedOn: this.#order.blockedOn(name),
      ...(invalid ? { invalid } : {}),
    };
  }

  /** Runs `kind` on the named servers (or all); an unknown name fails before any is touched. */
  lifecycle(
    kind: Lifecycle,
    targets: { all: true } | { names: readonly string[] },
  ): Promise<Outcome[]> {
    this.#refuseWhenClosing();
    return this.#lock.shared(() => {
      this.#refuseWhenClosing();
      const names = this.registry.resolve(targets).map((h) => h.name);
      return kind === "stop" ? this.#order.stop(names) : this.#order.start(names, kind);
    });
  }

  /**
   * Re-reads the config dir and applies the difference, alone; asks made
   * meanwhile join it. With `names`, only those servers' files are read and
   * applied (each runs alone too, and joins nothing); with `start: false`,
   * added servers are registered and not started.
   */
  reload(scope: ReloadScope = {}): Promise<ReloadOutcome> {
    this.#refuseWhenClosing();
    if (scope.names || scope.start === false) {
      return this.#lock.exclusive(() => {
        this.#refuseWhenClosing();
        return this.#applyReload(scope);
      });
    }
    this.#queuedReload ??= this.#lock.exclusive(() => {
      this.#queuedReload = null;
      this.#refuseWhenClosing();
      return this.#applyReload(scope);
    });
    return this.#queuedReload;
  }

  /**
   * Stops every server, dependents first, and ends their actors, once
   * whatever runs now is done; nothing starts after.
   */
  shutdown(): Promise<void> {
    this.#closing = true;
    this.#shutdown ??= this.#lock.exclusive(async () => {
      const graph = graphOf(this.registry.hosts.map((h) => h.config));
      for (const wave of stopWaves(graph, graph.keys())) {
        await Promise.all(wave.map((n) => this.registry.remove(n)));
      }
    });
    return this.#shutdown;
  }

  #refuseWhenClosing() {
    if (this.#closing) throw new DomainError("Internal", "the daemon is shutting down");
  }

  async #load(): Promise<void> {
    const { log } = this.#opts;
    try {
      const loaded = await this.#read();
      this.registry.setInvalid(loaded.invalid);
      for (const bad of loaded.invalid) {
        for (const e of bad.errors) {
          log("error", "invalid config", { server: bad.name, error: e.message });
        }
      }
      for (const config of loaded.configs) this.registry.add(config);
    } catch (e) {
      log("error", "boot could not load the configs", { error: errorMessage(e) });
    }
  }

  /** The config dir; where two files claim one port, a server that runs keeps it. */
  #read(): Promise<LoadResult> {
    const keepPorts = new Set(this.registry.hosts.filter((h) => h.isUp).map((h) => h.name));
    return (this.#opts.load ?? loadConfigDir)(this.#opts.configDir, { keepPorts });
  }

  /** Starts `names` (dependencies first), logging each failure as `what`; nothing once shutdown began. */
  async #startAll(names: readonly string[], what: string): Promise<void> {
    if (this.#closing || names.length === 0) return;
    for (const o of await this.#order.start(names, "start")) {
      if ("error" in o) {
        this.#opts.log("error", what, { server: o.name, error: errorMessage(o.error) });
      }
    }
  }

  async #applyReload(scope: ReloadScope): Promise<ReloadOutcome> {
    const { registry } = this;
    const only = scope.names ? new Set(scope.names) : null;
    const mine = (x: { name: string }) => !only || only.has(x.name);
    const all = await this.#read();
    const loaded = { configs: all.configs.filter(mine), invalid: all.invalid.filter(mine) };
    const plan = planReload(registry.hosts.map((h) => h.config).filter(mine), loaded);
    // The files not read this time keep what is known of them.
    registry.setInvalid([...registry.invalid.filter((i) => !mine(i)), ...loaded.invalid]);
    // A changed server comes back if it was up, blocked or failed (the change may be its
    // fix); one the user stopped stays stopped.
    const resume = new Set(
      registry.hosts.filter((h) => h.isUp || h.status.state === "failed").map((h) => h.name),
    );
    // Stop what goes away or changes first, so a port can move between servers.
    const leaving = [...plan.removed, ...plan.changed.map((c) => c.name)];
    await Promise.all(leaving.map((n) => registry.remove(n)));
    for (const name of plan.removed) this.#opts.onRemoved?.(name);
    for (const c of [...plan.added, ...plan.changed]) registry.add(c);
    await this.#startAll(
      [
        ...plan.added.filter((c) => c.autostart && scope.start !== false),
        ...plan.changed.filter((c) => resume.has(c.name)),
      ].map((c) => c.name),
      "start after reload failed",
    );
    const result: ReloadOutcome = {
      added: plan.added.map((c) => c.name),
      removed: [...plan.removed],
      changed: plan.changed.map((c) => c.name),
      unchanged: [...plan.unchanged],
      invalid: registry.invalid,
    };
    this.#opts.log(result.invalid.length ? "warn" : "info", "reloaded", {
      added: result.added.join(",") || undefined,
      removed: result.removed.join(",") || undefined,
      changed: result.changed.join(",") || undefined,
      invalid: result.invalid.map((i) => i.name).join(",") || undefined,
    });
    return result;
  }
}
