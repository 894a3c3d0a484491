/** The daemon's servers: one {@link ServerHost} each, plus the files that did not load. */
import type { InvalidFile } from "../config/load.ts";
import type { ServerConfig } from "../config/schema.ts";
import { closest } from "../config/suggest.ts";
import { DomainError, serverNotFound } from "../protocol/failures.ts";
import { errorMessage } from "../error_message.ts";
import type { FollowBatch } from "../logs/follow.ts";
import type { SpawnRecord } from "../process/records.ts";
import type { ActorPorts } from "../supervisor/actor.ts";
import { type HostMode, ServerHost } from "../supervisor/hosting/host.ts";
import type { Logger } from "./log.ts";

/** Options of {@link Registry}. */
export interface RegistryOptions {
  readonly logDir: string;
  /** Where spawns are recorded for crash recovery, and by which daemon. */
  readonly records?: { readonly dir: string; readonly daemon: string };
  readonly mode: HostMode;
  /** Ports for inline actors (tests). */
  readonly ports?: ActorPorts;
  readonly log: Logger;
  readonly onLogs?: (name: string, batch: FollowBatch) => void;
  /** Called with each host added, new or replacing one of the same name. */
  readonly onAdd?: (host: ServerHost) => void;
  /** Called with each snapshot a server's actor publishes. */
  readonly onStatus?: (name: string) => void;
  /** Called when a recorded run's group is gone (see process/sweeper.ts). */
  readonly onEnded?: (record: SpawnRecord) => void;
}

/** Every server the daemon knows. */
export class Registry {
  readonly #hosts = new Map<string, ServerHost>();
  #invalid: InvalidFile[] = [];
  readonly #opts: RegistryOptions;

  constructor(opts: RegistryOptions) {
    this.#opts = opts;
  }

  /** Starts supervising `config` (stopped until asked to start); a name has one host at a time. */
  add(config: ServerConfig): ServerHost {
    if (this.#hosts.has(config.name)) {
      throw new Error(`server "${config.name}" is already supervised`);
    }
    const { log } = this.#opts;
    let lastState = "";
    const host = new ServerHost(config, {
      logDir: this.#opts.logDir,
      ...(this.#opts.records ? { records: this.#opts.records } : {}),
      log,
      mode: this.#opts.mode,
      ...(this.#opts.ports ? { ports: this.#opts.ports } : {}),
      onStatus: (s) => {
        this.#opts.onStatus?.(s.name);
        if (s.state === lastState) return;
        log(s.state === "failed" ? "warn" : "info", "state", {
          server: s.name,
          from: lastState || undefined,
          to: s.state,
          pid: s.pid ?? undefined,
          reason: s.transitions.at(-1)?.reason,
        });
        lastState = s.state;
      },
      ...(this.#opts.onLogs ? { onLogs: this.#opts.onLogs } : {}),
      ...(this.#opts.onEnded ? { onEnded: this.#opts.onEnded } : {}),
      onWorkerError: (message, replaced) =>
        log(
          "error",
          replaced ? "supervisor worker died; replaced" : "supervisor worker could not be made",
          { server: config.name, error: message },
        ),
    });
    this.#hosts.set(config.name, host);
    this.#opts.onAdd?.(host);
    return host;
  }

  /** Records the files that did not load. */
  setInvalid(invalid: readonly InvalidFile[]): void {
    this.#invalid = [...invalid];
  }

  /** The files that did not load. */
  get invalid(): readonly InvalidFile[] {
    return this.#invalid;
  }

  /** Every host. */
  get hosts(): ServerHost[] {
    return [...this.#hosts.values()];
  }

  /** The host named `name`, if there is one. */
  find(name: string): ServerHost | undefined {
    return this.#hosts.get(name);
  }

  /** The host named `name`, or the right error for an invalid file or an unknown name. */
  get(name: string): ServerHost {
    const host = this.#hosts.get(name);
    if (host) return host;
    const bad = this.#invalid.find((f) => f.name === name);
    if (bad) {
      throw new DomainError(
        "ConfigInvalid",
        `${name}: config is invalid: ${bad.errors.map((e) => e.message).join("; ")}`,
      );
    }
    const known = [...this.#hosts.keys(), ...this.#invalid.map((f) => f.name)];
    throw serverNotFound(name, closest(name, known));
  }

  /** The hosts named, once each, or every host; an unknown name fails before any is returned. */
  resolve(targets: { all: true } | { names: readonly string[] }): ServerHost[] {
    if ("all" in targets) return this.hosts;
    return [...new Set(targets.names)].map((n) => this.get(n));
  }

  /** Stops a server, ends its actor and forgets it; it stays listed until it has stopped. */
  async remove(name: string): Promise<void> {
    const host = this.#hosts.get(name);
    if (!host) return;
    await this.#shutdownHost(host, "stop on removal failed");
    this.#hosts.delete(name);
  }

  async #shutdownHost(host: ServerHost, failure: string) {
    try {
      await host.request({ kind: "shutdown" });
      host.close();
    } catch (e) {
      // Its supervisor did not answer in time: no child may outlive the daemon.
      this.#opts.log("error", failure, { server: host.name, error: errorMessage(e) });
      host.kill();
    }
  }
}
