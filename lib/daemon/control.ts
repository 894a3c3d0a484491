/**
 * What the daemon does to its servers as a whole — boot, lifecycle requests,
 * reload, shutdown — through one lock (docs/ARCHITECTURE.md, "The daemon").
 * Boot, reload and shutdown run alone; lifecycle requests run beside each
 * other (each server's actor orders its own commands) but never beside those.
 * So a SIGHUP during boot waits for it, a shutdown waits for a reload to have
 * stopped what it stops, and once shutdown begins nothing starts again.
 * Starts and stops follow `depends-on` (orchestrator.ts).
 */
import { loadConfigDir, type LoadResult } from "../config/load.ts";
import { compareNames } from "../config/schema.ts";
import { DomainError } from "../protocol/failures.ts";
import { errorMessage } from "../error_message.ts";
import type { ReloadResult, ServerSummary, StatusDetail } from "../protocol/types.ts";
import { graphOf, stopWaves } from "./dependencies.ts";
import type { Logger } from "./log.ts";
import { Orchestrator, type Outcome } from "./orchestrator.ts";
import type { Registry } from "./registry.ts";
import { planReload } from "./reload_plan.ts";
import { RwLock } from "./rw_lock.ts";
import { invalidRow, invalidToWire, summarize, toWire } from "./wire.ts";

export type { Outcome } from "./orchestrator.ts";

/** A lifecycle command on servers. */
export type Lifecycle = "start" | "stop" | "restart";

/** Options of {@link Control}. */
export interface ControlOptions {
  readonly configDir: string;
  readonly log: Logger;
  /** Called with each server a reload removed for good. */
  readonly onRemoved?: (name: string) => void;
  /** Reads the config dir (a fake in tests). */
  readonly load?: (dir: string, opts: { keepPorts: ReadonlySet<string> }) => Promise<LoadResult>;
}

/** The daemon's operations on its set of servers. */
export class Control {
  readonly registry: Registry;
  readonly #opts: ControlOptions;
  readonly #lock = new RwLock();
  readonly #order: Orchestrator;
  #closing = false;
  #shutdown: Promise<void> | null = null;
  /** A reload asked for and not yet begun: later asks join it. */
  #queuedReload: Promise<ReloadResult> | null = null;

  constructor(registry: Registry, opts: ControlOptions) {
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

  /**
   * A server's snapshot changed: servers blocked on it start once all their
   * dependencies are up (through the lock, so never beside a reload).
   */
  changed(name: string): void {
    for (const blocked of this.#order.unblockedBy(name)) {
      this.#lock.shared(() =>
        this.#startAll([blocked], "start of a server its dependencies held back failed")
      );
    }
  }

  /** The `list` rows, sorted by name; files that did not load show as `invalid`. */
  list(now: number): ServerSummary[] {
    const rows = this.registry.hosts.map((h) =>
      summarize(toWire(h, now, this.#order.waitingFor(h.name), this.#invalidFile(h.name)))
    );
    for (const f of this.registry.invalid) {
      if (!rows.some((r) => r.name === f.name)) rows.push(invalidRow(f));
    }
    return rows.sort((a, b) => compareNames(a.name, b.name));
  }

  /** A fresh `status` of one server, asked of its actor. */
  async status(name: string): Promise<StatusDetail> {
    const host = this.registry.get(name);
    const status = await host.request({ kind: "status" });
    return toWire(
      { config: host.config, status, logFile: host.logFile },
      Date.now(),
      this.#order.waitingFor(name),
      this.#invalidFile(name),
    );
  }

  /** The file of `name` when it no longer loads (its server runs as the last valid one said). */
  #invalidFile(name: string) {
    return this.registry.invalid.find((f) => f.name === name);
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
      return kind === "stop" ? this.#order.stop(names, "stop") : this.#order.start(names, kind);
    });
  }

  /** Re-reads the config dir and applies the difference, alone; asks made meanwhile join it. */
  reload(): Promise<ReloadResult> {
    this.#refuseWhenClosing();
    this.#queuedReload ??= this.#lock.exclusive(() => {
      this.#queuedReload = null;
      this.#refuseWhenClosing();
      return this.#applyReload();
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

  async #applyReload(): Promise<ReloadResult> {
    const { registry } = this;
    const loaded = await this.#read();
    const plan = planReload(registry.hosts.map((h) => h.config), loaded);
    registry.setInvalid(loaded.invalid);
    // A changed server comes back if it was up, blocked or failed (the change may be its
    // fix); one the user stopped stays stopped.
    const resume = new Set(
      registry.hosts.filter((h) =>
        h.isUp || h.status.state === "failed" || this.#order.isBlocked(h.name)
      ).map((h) => h.name),
    );
    // Stop what goes away or changes first, so a port can move between servers.
    const leaving = [...plan.removed, ...plan.changed.map((c) => c.name)];
    await Promise.all(leaving.map((n) => registry.remove(n)));
    for (const name of leaving) this.#order.forget(name);
    for (const name of plan.removed) this.#opts.onRemoved?.(name);
    for (const c of [...plan.added, ...plan.changed]) registry.add(c);
    await this.#startAll(
      [
        ...plan.added.filter((c) => c.autostart),
        ...plan.changed.filter((c) => resume.has(c.name)),
      ].map((c) => c.name),
      "start after reload failed",
    );
    const result: ReloadResult = {
      added: plan.added.map((c) => c.name),
      removed: [...plan.removed],
      changed: plan.changed.map((c) => c.name),
      unchanged: [...plan.unchanged],
      invalid: registry.invalid.map(invalidToWire),
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
