/**
 * The daemon's servers: one supervisor (a {@link ServerHandle}) each, plus the
 * files that did not load. Whoever needs to hear of a server — the followers
 * of its logs, the dependency order — watches the registry: snapshots flow
 * one way, from each host through here to its watchers.
 */
import type { BridgeSecrets } from "../bridge/bridge.ts";
import type { InvalidFile } from "../config/load.ts";
import type { ServerConfig } from "../config/schema.ts";
import { closest } from "../config/suggest.ts";
import { errorMessage } from "../error_message.ts";
import { DomainError, serverNotFound } from "../protocol/failures.ts";
import type { FollowBatch } from "../logs/follow.ts";
import type { Recording, SpawnRecord } from "../process/records.ts";
import {
  type HostMode,
  type HostOptions,
  type ServerHandle,
  ServerHost,
} from "../supervisor/hosting/host.ts";
import type { Logger } from "./log.ts";

/** Makes the supervisor of one server: a {@link ServerHost} unless a test passes its own. */
export type HostFactory = (config: ServerConfig, opts: HostOptions) => ServerHandle;

/** Options of {@link Registry}. */
export interface RegistryOptions {
  readonly logDir: string;
  /** Where spawns are recorded for crash recovery, and by which daemon. */
  readonly records?: Recording;
  readonly mode: HostMode;
  readonly log: Logger;
  readonly onLogs?: (name: string, batch: FollowBatch) => void;
  /** Called when a recorded run's group is gone (see process/sweeper.ts). */
  readonly onEnded?: (record: SpawnRecord) => void;
  /** Makes each server's supervisor (tests pass fakes). */
  readonly makeHost?: HostFactory;
  /** What a stdio server's supervisor needs to serve its endpoint (secrets.ts). */
  readonly bridgeSecrets?: (config: ServerConfig) => BridgeSecrets | undefined;
}

/** What a watcher of the registry hears. */
export interface RegistryWatcher {
  /** A host was added, new or replacing one of the same name. */
  added?(host: ServerHandle): void;
  /** A host published a snapshot. */
  status?(host: ServerHandle): void;
}

/** Every server the daemon knows. */
export class Registry {
  readonly #hosts = new Map<string, ServerHandle>();
  #invalid: InvalidFile[] = [];
  readonly #opts: RegistryOptions;
  readonly #watchers: RegistryWatcher[] = [];

  constructor(opts: RegistryOptions) {
    this.#opts = opts;
  }

  /** Adds a watcher; it hears of every host added and every snapshot from now on. */
  watch(watcher: RegistryWatcher): void {
    this.#watchers.push(watcher);
  }

  /** Starts supervising `config` (stopped until asked to start); a name has one host at a time. */
  add(config: ServerConfig): ServerHandle {
    if (this.#hosts.has(config.name)) {
      throw new Error(`server "${config.name}" is already supervised`);
    }
    const { log } = this.#opts;
    let lastState = "";
    const make = this.#opts.makeHost ?? ((c, o) => new ServerHost(c, o));
    const bridge = this.#opts.bridgeSecrets?.(config);
    const host: ServerHandle = make(config, {
      logDir: this.#opts.logDir,
      ...(bridge ? { bridge } : {}),
      ...(this.#opts.records ? { records: this.#opts.records } : {}),
      log,
      mode: this.#opts.mode,
      onStatus: (s) => {
        if (s.state !== lastState) {
          log(s.state === "failed" ? "warn" : "info", "state", {
            server: s.name,
            from: lastState || undefined,
            to: s.state,
            pid: s.pid ?? undefined,
            reason: s.transitions.at(-1)?.reason,
          });
          lastState = s.state;
        }
        for (const w of this.#watchers) w.status?.(host);
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
    for (const w of this.#watchers) w.added?.(host);
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

  /** The file of `name` when it does not load (a server of that name runs as the last valid one said). */
  invalidFile(name: string): InvalidFile | undefined {
    return this.#invalid.find((f) => f.name === name);
  }

  /** Every host. */
  get hosts(): ServerHandle[] {
    return [...this.#hosts.values()];
  }

  /** The host named `name`, if there is one. */
  find(name: string): ServerHandle | undefined {
    return this.#hosts.get(name);
  }

  /** The host named `name`, or the right error for an invalid file or an unknown name. */
  get(name: string): ServerHandle {
    const host = this.#hosts.get(name);
    if (host) return host;
    const bad = this.invalidFile(name);
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
  resolve(targets: { all: true } | { names: readonly string[] }): ServerHandle[] {
    if ("all" in targets) return this.hosts;
    return [...new Set(targets.names)].map((n) => this.get(n));
  }

  /** Stops a server, ends its actor and forgets it; it stays listed until it has stopped. */
  async remove(name: string): Promise<void> {
    const host = this.#hosts.get(name);
    if (!host) return;
    try {
      await host.request({ kind: "shutdown" });
      host.close();
    } catch (e) {
      // Its supervisor did not answer in time: no child may outlive the daemon.
      this.#opts.log("error", "stop on removal failed", {
        server: host.name,
        error: errorMessage(e),
      });
      host.kill();
    }
    this.#hosts.delete(name);
  }
}
