/**
 * What the daemon does to its servers as a whole: loading them at boot,
 * running a lifecycle command over several, applying a reload, shutting
 * everything down. The RPC methods and the signal handlers both come here.
 */
import { loadConfigDir } from "../config/load.ts";
import { errorMessage } from "../errors.ts";
import type { ReloadResult, ServerSummary, StatusDetail } from "../rpc/types.ts";
import type { ServerHost } from "../supervisor/host.ts";
import type { Logger } from "./log.ts";
import type { Registry } from "./registry.ts";
import { planReload } from "./reload_plan.ts";
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
}

/** The daemon's operations on its set of servers. */
export class Control {
  readonly registry: Registry;
  readonly #opts: ControlOptions;
  #reloading: Promise<unknown> = Promise.resolve();

  constructor(registry: Registry, opts: ControlOptions) {
    this.registry = registry;
    this.#opts = opts;
  }

  /** Loads the config dir into the registry; an unreadable dir is logged and leaves it empty. */
  async load(): Promise<void> {
    const { log } = this.#opts;
    try {
      const loaded = await loadConfigDir(this.#opts.configDir);
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

  /** Runs `kind` on every host in parallel; collects what each answered. */
  async each(hosts: readonly ServerHost[], kind: Lifecycle): Promise<Outcome[]> {
    return await Promise.all(hosts.map(async (h): Promise<Outcome> => {
      try {
        return { name: h.name, result: await h.request({ kind }) };
      } catch (error) {
        return { name: h.name, error };
      }
    }));
  }

  /** Starts `hosts` in parallel, logging each failure as `what`. */
  async startAll(hosts: readonly ServerHost[], what: string): Promise<void> {
    for (const o of await this.each(hosts, "start")) {
      if ("error" in o) {
        this.#opts.log("error", what, { server: o.name, error: errorMessage(o.error) });
      }
    }
  }

  /** Re-reads the config dir and applies the difference; one reload at a time. */
  reload(): Promise<ReloadResult> {
    const next = this.#reloading.then(() => this.#applyReload(), () => this.#applyReload());
    this.#reloading = next;
    return next;
  }

  /** Stops every server in parallel and ends their actors. */
  async shutdown(): Promise<void> {
    await this.registry.shutdown();
  }

  async #applyReload(): Promise<ReloadResult> {
    const { registry } = this;
    const loaded = await loadConfigDir(this.#opts.configDir);
    const plan = planReload(registry.hosts.map((h) => h.config), loaded);
    registry.setInvalid(loaded.invalid);
    const wasUp = new Set(registry.hosts.filter((h) => h.isUp).map((h) => h.name));
    // Stop what goes away or changes first, so a port can move between servers.
    await Promise.all(
      [...plan.removed, ...plan.changed.map((c) => c.name)].map((n) => registry.remove(n)),
    );
    const toStart = [
      ...plan.added.filter((c) => c.autostart),
      ...plan.changed.filter((c) => wasUp.has(c.name) || c.autostart),
    ].map((c) => c.name);
    for (const c of [...plan.added, ...plan.changed]) registry.add(c);
    await this.startAll(toStart.map((n) => registry.get(n)), "start after reload failed");
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
