/**
 * The daemon-side handle of one server: sends commands to its actor and keeps
 * the latest status snapshot, so `list` never waits on a worker. The actor runs
 * in its own Web Worker, or in-process over a `MessageChannel` (tests).
 */
import type { ServerConfig } from "../config/schema.ts";
import { RpcCode, RpcError } from "../errors.ts";
import { signalGroup } from "../process/group.ts";
import type { StatusDetail } from "../rpc/types.ts";
import type { LogLine } from "../logs/ring.ts";
import { Actor, type ActorPorts } from "./actor.ts";
import type { Command, Endpoint, FromActor } from "./messages.ts";

/** Where a host runs its actor. */
export type HostMode = "worker" | "inline";

/** Options of {@link ServerHost}. */
export interface HostOptions {
  readonly logDir: string;
  /** Where the actor records its child's pid for crash recovery. */
  readonly pidDir?: string;
  readonly mode?: HostMode;
  /** Ports for an inline actor (tests). */
  readonly ports?: ActorPorts;
  /** Called with every status the actor publishes. */
  readonly onStatus?: (status: StatusDetail) => void;
  /** Called with every batch of log lines while somebody follows. */
  readonly onLogs?: (name: string, lines: readonly LogLine[]) => void;
  /** Called when the worker died and was replaced. */
  readonly onWorkerError?: (message: string) => void;
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: RpcError) => void;
}

const UP_STATES = new Set(["starting", "running", "restarting"]);

/** One server as the daemon sees it. */
export class ServerHost {
  #config: ServerConfig;
  readonly #opts: HostOptions;
  #endpoint!: Endpoint;
  #worker: Worker | null = null;
  /** Both ends of the in-process channel, closed together. */
  #ports: MessagePort[] = [];
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #status: StatusDetail;
  #closed = false;
  #followers = 0;

  constructor(config: ServerConfig, opts: HostOptions) {
    this.#config = config;
    this.#opts = opts;
    this.#status = placeholderStatus(config, opts.logDir);
    this.#boot();
  }

  /** The server's name. */
  get name(): string {
    return this.#config.name;
  }

  /** True while the server is meant to be up: starting, running, or waiting out a backoff. */
  get isUp(): boolean {
    return UP_STATES.has(this.#status.state);
  }

  /** The config it runs with. */
  get config(): ServerConfig {
    return this.#config;
  }

  /** The latest snapshot, uptime brought up to date. */
  get status(): StatusDetail {
    const s = this.#status;
    if (s.since_unix_ms === undefined) return s;
    return { ...s, uptime_secs: Math.max(0, Math.floor((Date.now() - s.since_unix_ms) / 1000)) };
  }

  /** Sends a command; resolves with the actor's answer or rejects with its RpcError. */
  request(command: Command): Promise<unknown> {
    if (this.#closed) {
      return Promise.reject(
        new RpcError(RpcCode.InternalError, `server "${this.name}" is shut down`),
      );
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#endpoint.postMessage({ type: "command", id, command });
    });
  }

  /** Counts a follower in (+1) or out (-1); lines flow from the actor only while there is one. */
  follow(delta: 1 | -1): void {
    const before = this.#followers;
    this.#followers = Math.max(0, before + delta);
    if ((before === 0) !== (this.#followers === 0) && !this.#closed) {
      this.#endpoint.postMessage({ type: "follow", on: this.#followers > 0 });
    }
  }

  /**
   * Posts a raw message to the actor. Tests use it to make a worker die of an
   * uncaught error, to show that it is replaced.
   * @internal
   */
  postRaw(message: unknown): void {
    this.#endpoint.postMessage(message);
  }

  /** Ends the worker or channel; call after a `shutdown` request resolved. */
  close(): void {
    this.#closed = true;
    this.#worker?.terminate();
    for (const port of this.#ports) port.close();
    for (const p of this.#pending.values()) {
      p.reject(new RpcError(RpcCode.InternalError, `server "${this.name}" is shut down`));
    }
    this.#pending.clear();
  }

  #boot() {
    const onmessage = (ev: MessageEvent) => this.#receive(ev.data as FromActor);
    if ((this.#opts.mode ?? "worker") === "worker") {
      const worker = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
      worker.onmessage = onmessage;
      worker.onerror = (ev) => {
        // Without preventDefault an uncaught error in a worker takes the whole daemon down.
        ev.preventDefault();
        this.#replaceWorker(`${ev.message} (${ev.filename}:${ev.lineno})`);
      };
      this.#worker = worker;
      this.#endpoint = worker as unknown as Endpoint;
    } else {
      const channel = new MessageChannel();
      new Actor(channel.port2 as unknown as Endpoint, this.#opts.ports ?? {});
      channel.port1.onmessage = onmessage;
      this.#ports = [channel.port1, channel.port2];
      this.#endpoint = channel.port1 as unknown as Endpoint;
    }
    this.#endpoint.postMessage({
      type: "init",
      config: this.#config,
      logDir: this.#opts.logDir,
      ...(this.#opts.pidDir ? { pidDir: this.#opts.pidDir } : {}),
    });
    if (this.#followers > 0) this.#endpoint.postMessage({ type: "follow", on: true });
  }

  /**
   * A dead worker: kill its server's process group (no orphan may keep the
   * port), fail what was in flight, and start a fresh worker that brings the
   * server back up if it was meant to be up.
   */
  #replaceWorker(message: string) {
    const last = this.#status;
    this.#worker?.terminate();
    this.#worker = null;
    if (last.pid !== undefined) signalGroup(last.pid, "SIGKILL");
    for (const p of this.#pending.values()) {
      p.reject(
        new RpcError(RpcCode.InternalError, `supervisor of "${this.name}" crashed: ${message}`),
      );
    }
    this.#pending.clear();
    this.#opts.onWorkerError?.(message);
    if (this.#closed) return;
    this.#status = placeholderStatus(this.#config, this.#opts.logDir);
    this.#boot();
    if (UP_STATES.has(last.state)) this.request({ kind: "start" }).catch(() => {});
  }

  #receive(msg: FromActor) {
    if (msg.type === "status") {
      this.#status = msg.status;
      this.#opts.onStatus?.(msg.status);
      return;
    }
    if (msg.type === "logs") {
      this.#opts.onLogs?.(this.name, msg.lines);
      return;
    }
    const p = this.#pending.get(msg.id);
    if (!p) return;
    this.#pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new RpcError(msg.error.code, msg.error.message));
  }
}

/** The status shown before the actor published its first one. */
function placeholderStatus(config: ServerConfig, logDir: string): StatusDetail {
  return {
    name: config.name,
    state: "stopped",
    port: config.port,
    restart_count: 0,
    transitions: [],
    stderr_tail: [],
    log_file: `${logDir}/${config.name}.log`,
    log_write_errors: 0,
    config_file: config.file,
    command: config.command,
    args: config.args,
    env_names: Object.keys(config.env),
    autostart: config.autostart,
    depends_on: config.dependsOn,
    policy: config.restart.policy,
  };
}
