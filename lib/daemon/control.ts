/**
 * What the daemon does to its servers as a whole — boot, lifecycle requests,
 * reload, shutdown — through one lock (docs/ARCHITECTURE.md, "The daemon").
 * Boot, reload and shutdown run alone; lifecycle requests run beside each
 * other (each server's actor orders its own commands) but never beside those.
 * So a SIGHUP during boot waits for it, a shutdown waits for a reload to have
 * stopped what it stops, and once shutdown begins nothing starts again.
 */
import { loadConfigDir, type LoadResult } from "../config/load.ts";
import { DomainError, errorMessage } from "../errors.ts";
import type { ReloadResult, ServerSummary, StatusDetail } from "../rpc/types.ts";
import type { ServerHost } from "../supervisor/host.ts";
import type { Logger } from "./log.ts";
import type { Registry } from "./registry.ts";
import { planReload } from "./reload_plan.ts";
import { RwLock } from "./rw_lock.ts";
import { invalidRow, invalidToWire, summarize, toWire } from "./wire.ts";

/** A lifecycle command on servers. */
export type Lifecycle = "start" | "stop" | "restart";

/** One server's part in a lifecycle request: what it answered, or what it failed with. */
export type Outcome =
  | { readonly name: string; readonly result: string }
  | { readonly name: string; readonly error: unknown };

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
  #closing = false;
  #shutdown: Promise<void> | null = null;
  /** A reload asked for and not yet begun: later asks join it. */
  #queuedReload: Promise<ReloadResult> | null = null;

  constructor(registry: Registry, opts: ControlOptions) {
    this.registry = registry;
    this.#opts = opts;
  }

  /** True once shutdown began: nothing starts any more. */
  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Boot, alone: `prepare` (reaping a killed predecessor's children), then the
   * configs, `loaded`, then the autostart servers.
   */
  boot(prepare: () => Promise<unknown>, loaded: () => void): Promise<void> {
    return this.#lock.exclusive(async () => {
      try {
        await prepare();
        await this.#load();
      } finally {
        loaded();
      }
      const autostart = this.registry.hosts.filter((h) => h.config.autostart);
      await this.#startAll(autostart, "autostart failed");
    });
  }

  /** The `list` rows, sorted by name; files that did not load show as `invalid`. */
  list(now: number): ServerSummary[] {
    const rows = this.registry.hosts.map((h) => summarize(toWire(h, now)));
    for (const f of this.registry.invalid) {
      if (!rows.some((r) => r.name === f.name)) rows.push(invalidRow(f));
    }
    return rows.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A fresh `status` of one server, asked of its actor. */
  async status(name: string): Promise<StatusDetail> {
    const host = this.registry.get(name);
    const status = await host.request({ kind: "status" });
    return toWire({ config: host.config, status, logFile: host.logFile }, Date.now());
  }

  /** Runs `kind` on the named servers (or all); an unknown name fails before any is touched. */
  lifecycle(
    kind: Lifecycle,
    targets: { all: true } | { names: readonly string[] },
  ): Promise<Outcome[]> {
    this.#refuseWhenClosing();
    return this.#lock.shared(() => {
      this.#refuseWhenClosing();
      return this.#each(this.registry.resolve(targets), kind);
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

  /** Stops every server and ends their actors, once whatever runs now is done; no start after. */
  shutdown(): Promise<void> {
    this.#closing = true;
    this.#shutdown ??= this.#lock.exclusive(() => this.registry.shutdown());
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

  async #each(hosts: readonly ServerHost[], kind: Lifecycle): Promise<Outcome[]> {
    return await Promise.all(hosts.map(async (h): Promise<Outcome> => {
      try {
        return { name: h.name, result: await h.request({ kind }) };
      } catch (error) {
        return { name: h.name, error };
      }
    }));
  }

  /** Starts `hosts` in parallel, logging each failure as `what`; nothing once shutdown began. */
  async #startAll(hosts: readonly ServerHost[], what: string): Promise<void> {
    if (this.#closing) return;
    for (const o of await this.#each(hosts, "start")) {
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
    // A changed server comes back if it was up, or failed (the change may be its fix);
    // one the user stopped stays stopped.
    const resume = new Set(
      registry.hosts.filter((h) => h.isUp || h.status.state === "failed").map((h) => h.name),
    );
    // Stop what goes away or changes first, so a port can move between servers.
    await Promise.all(
      [...plan.removed, ...plan.changed.map((c) => c.name)].map((n) => registry.remove(n)),
    );
    for (const name of plan.removed) this.#opts.onRemoved?.(name);
    for (const c of [...plan.added, ...plan.changed]) registry.add(c);
    const toStart = [
      ...plan.added.filter((c) => c.autostart),
      ...plan.changed.filter((c) => resume.has(c.name)),
    ].map((c) => registry.get(c.name));
    await this.#startAll(toStart, "start after reload failed");
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
