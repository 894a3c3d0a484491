/** The daemon's servers: one {@link ServerHost} each, plus the files that did not load. */
import type { InvalidFile } from "../config/load.ts";
import { isValidName, type ServerConfig } from "../config/schema.ts";
import { RpcCode, RpcError, serverNotFound } from "../errors.ts";
import type { ServerSummary, StatusDetail, WireInvalid } from "../rpc/types.ts";
import type { HostMode } from "../supervisor/host.ts";
import { ServerHost } from "../supervisor/host.ts";
import type { Logger } from "./log.ts";
import type { LogLine } from "../logs/ring.ts";

/** Options of {@link Registry}. */
export interface RegistryOptions {
  readonly logDir: string;
  readonly pidDir?: string;
  readonly mode: HostMode;
  readonly log: Logger;
  readonly onLogs?: (name: string, lines: readonly LogLine[]) => void;
}

/** The outcome of one server's part in a multi-server request. */
export interface Outcome {
  readonly name: string;
  readonly result?: string;
  readonly error?: { readonly code: number; readonly message: string };
}

/** Every server the daemon knows. */
export class Registry {
  readonly #hosts = new Map<string, ServerHost>();
  #invalid: InvalidFile[] = [];
  readonly #opts: RegistryOptions;

  constructor(opts: RegistryOptions) {
    this.#opts = opts;
  }

  /** Starts supervising `config` (stopped until asked to start). */
  add(config: ServerConfig): ServerHost {
    const { log } = this.#opts;
    let lastState = "";
    const host = new ServerHost(config, {
      logDir: this.#opts.logDir,
      ...(this.#opts.pidDir ? { pidDir: this.#opts.pidDir } : {}),
      mode: this.#opts.mode,
      onStatus: (s) => {
        if (s.state === lastState) return;
        const t = s.transitions.at(-1);
        log(s.state === "failed" ? "warn" : "info", "state", {
          server: s.name,
          from: lastState || undefined,
          to: s.state,
          pid: s.pid,
          reason: t?.reason,
        });
        lastState = s.state;
      },
      ...(this.#opts.onLogs ? { onLogs: this.#opts.onLogs } : {}),
      onWorkerError: (message) =>
        log("error", "supervisor worker died; replaced", { server: config.name, error: message }),
    });
    this.#hosts.set(config.name, host);
    return host;
  }

  /** Records the files that did not load. */
  setInvalid(invalid: readonly InvalidFile[]): void {
    this.#invalid = [...invalid];
  }

  /** The files that did not load, as the wire shows them. */
  get invalid(): WireInvalid[] {
    return this.#invalid.map((f) => ({
      name: f.name,
      file: f.file,
      error: f.errors.map((e) => e.message).join("\n"),
    }));
  }

  /** Every host. */
  get hosts(): ServerHost[] {
    return [...this.#hosts.values()];
  }

  /** The `list` rows, sorted by name; invalid files show as `invalid`. */
  summaries(): ServerSummary[] {
    const rows: ServerSummary[] = this.hosts.map((h) => summarize(h.status));
    for (const f of this.#invalid) {
      if (!this.#hosts.has(f.name)) {
        rows.push({ name: f.name, state: "invalid", port: 0, restart_count: 0 });
      }
    }
    return rows.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The host named `name`, or the right error for an invalid file or an unknown name. */
  get(name: string): ServerHost {
    const host = this.#hosts.get(name);
    if (host) return host;
    const bad = this.#invalid.find((f) => f.name === name);
    if (bad) {
      throw new RpcError(
        RpcCode.ConfigInvalid,
        `${name}: config is invalid: ${bad.errors.map((e) => e.message).join("; ")}`,
      );
    }
    throw serverNotFound(name);
  }

  /** Resolves `{name}`, `{names}` or `{all}`; an unknown name fails the whole request before any is touched. */
  targets(params: unknown): ServerHost[] {
    const p = params as Record<string, unknown>;
    const given = ["name", "names", "all"].filter((k) => p[k] !== undefined);
    if (given.length !== 1) {
      throw new RpcError(
        RpcCode.InvalidParams,
        `invalid params: give exactly one of "name", "names", "all"`,
      );
    }
    if (p.all !== undefined) {
      if (p.all !== true) {
        throw new RpcError(RpcCode.InvalidParams, `invalid params: "all" must be true`);
      }
      return this.hosts;
    }
    const names = p.name !== undefined ? [p.name] : p.names;
    if (!Array.isArray(names) || names.length === 0) {
      throw new RpcError(
        RpcCode.InvalidParams,
        `invalid params: "names" must be a non-empty array of names`,
      );
    }
    for (const n of names) validName(n);
    return [...new Set(names as string[])].map((n) => this.get(n));
  }

  /** Runs `command` on every host in parallel; collects what each said. */
  async each(hosts: readonly ServerHost[], kind: "start" | "stop" | "restart"): Promise<Outcome[]> {
    return await Promise.all(hosts.map(async (h): Promise<Outcome> => {
      try {
        return { name: h.name, result: String(await h.request({ kind })) };
      } catch (e) {
        const err = e instanceof RpcError ? e : new RpcError(RpcCode.InternalError, String(e));
        return { name: h.name, error: { code: err.code, message: err.message } };
      }
    }));
  }

  /** Stops a server, ends its worker and forgets it. */
  async remove(name: string): Promise<void> {
    const host = this.#hosts.get(name);
    if (!host) return;
    this.#hosts.delete(name);
    try {
      await host.request({ kind: "shutdown" });
    } catch (e) {
      this.#opts.log("error", "stop on removal failed", { server: name, error: String(e) });
    }
    host.close();
  }

  /** A fresh status from the server's actor. */
  async status(name: string): Promise<StatusDetail> {
    return await this.get(name).request({ kind: "status" }) as StatusDetail;
  }

  /** Stops every server in parallel and ends their workers. */
  async shutdown(): Promise<void> {
    await Promise.all(this.hosts.map(async (h) => {
      try {
        await h.request({ kind: "shutdown" });
      } catch (e) {
        this.#opts.log("error", "shutdown failed", { server: h.name, error: String(e) });
      }
      h.close();
    }));
  }
}

/** Throws InvalidParams unless `name` is a valid server name. */
export function validName(name: unknown): string {
  if (typeof name !== "string" || !isValidName(name)) {
    throw new RpcError(
      RpcCode.InvalidParams,
      `invalid params: bad server name ${JSON.stringify(name)}`,
    );
  }
  return name;
}

/** The `list` row of a status. */
export function summarize(s: StatusDetail): ServerSummary {
  return {
    name: s.name,
    state: s.state,
    ...(s.pid === undefined ? {} : { pid: s.pid }),
    port: s.port,
    ...(s.url === undefined ? {} : { url: s.url }),
    ...(s.uptime_secs === undefined ? {} : { uptime_secs: s.uptime_secs }),
    restart_count: s.restart_count,
    ...(s.last_exit === undefined ? {} : { last_exit: s.last_exit }),
    ...(s.last_signal === undefined ? {} : { last_signal: s.last_signal }),
    ...(s.health === undefined ? {} : { health: s.health }),
  };
}
