/**
 * The daemon-side handle of one server: sends commands to its actor and keeps
 * the latest snapshot, so `list` never waits on an actor. The actor runs in
 * its own Web Worker (`worker`), or on the daemon's thread over an
 * in-process channel (`inline`, local_channel.ts); both run the same code.
 *
 * The host decides no state. Until its actor has published one, it shows
 * what the machine makes of the requests sent so far (the same pure step the
 * actor will take): during a boot of many, a server whose worker is still in
 * the queue shows `starting` or `blocked`, as it will be, not `stopped`.
 */
import { errorMessage } from "../../error_message.ts";
import type { ServerConfig } from "../../config/schema.ts";
import { DomainError } from "../../protocol/failures.ts";
import type { LogTail } from "../../logs/capture.ts";
import { logPath } from "../../logs/log_file.ts";
import { signalGroup } from "../../process/group.ts";
import { reapRecorded } from "../../process/reap.ts";
import { removeRecord } from "../../process/records.ts";
import { Actor } from "../actor.ts";
import { step } from "../core/machine.ts";
import { initialModel, KILL_WAIT_MS, machineConfig, type Model } from "../core/model.ts";
import { NO_LOGS, type Snapshot, snapshotOf } from "../core/snapshot.ts";
import type { Command, Endpoint, FromActor, Results, ToActor } from "../messages.ts";
import { localChannel } from "./local_channel.ts";
import { type HostOptions, LIFECYCLE_MARGIN_MS, QUERY_TIMEOUT_MS } from "./host_options.ts";
import { PendingRequests } from "./requests.ts";
import { workerQueue } from "./worker_queue.ts";

export type { HostMode, HostOptions } from "./host_options.ts";

/** The states in which a server is meant to be up: it has, or will have, a process. */
export const UP_STATES: ReadonlySet<string> = new Set([
  "starting",
  "running",
  "restarting",
  "blocked",
]);

/** The module a supervisor's worker runs. */
const WORKER_MODULE = new URL("./worker.ts", import.meta.url);

/** What the daemon needs of one server's supervisor (a {@link ServerHost}, or a fake in tests). */
export interface ServerHandle {
  readonly name: string;
  readonly config: ServerConfig;
  readonly logFile: string;
  /** The latest snapshot: what the machine says of the server. */
  readonly status: Snapshot;
  /** True while the server is meant to be up (starting, running, restarting, blocked). */
  readonly isUp: boolean;
  /** Sends a command; resolves with its answer, or rejects with a DomainError. */
  request<K extends Command["kind"]>(command: Command & { kind: K }): Promise<Results[K]>;
  /** The dependencies it waits for, blocked, are all up. */
  depsUp(): void;
  /** Whether the actor sends its lines as they come: only while somebody follows. */
  follow(on: boolean): void;
  /** Kills the server's process group and ends the actor: for an actor that does not answer. */
  kill(): void;
  /** Ends the worker or channel; call after a `shutdown` request resolved. */
  close(): void;
}

/** One server's supervisor, as the daemon sees it. */
export class ServerHost implements ServerHandle {
  readonly #config: ServerConfig;
  readonly #opts: HostOptions;
  readonly #logFile: string;
  #endpoint!: Endpoint;
  #worker: Worker | null = null;
  /** Takes the worker or inline actor still to be made out of the queue; null once it is made. */
  #cancelCreation: (() => void) | null = null;
  /** Why the worker could not be made, if it could not. */
  #noWorker: string | null = null;
  /** Closes the in-process channel of an inline actor. */
  #closeChannel: (() => void) | null = null;
  #nextId = 1;
  readonly #requests = new PendingRequests();
  #status: Snapshot;
  /** What the machine makes of the requests sent before the actor published: null once it has. */
  #foreseen: Model | null = initialModel();
  #closed = false;
  #following = false;
  /** The highest number of a line for followers seen from an actor: a replacing one numbers on. */
  #numbered = 0;

  constructor(config: ServerConfig, opts: HostOptions) {
    this.#config = config;
    this.#opts = opts;
    this.#logFile = logPath(opts.logDir, config.name);
    this.#status = snapshotOf(config.name, initialModel(), NO_LOGS);
    this.#boot();
  }

  /** The server's name. */
  get name(): string {
    return this.#config.name;
  }

  /** The config it runs with. */
  get config(): ServerConfig {
    return this.#config;
  }

  /** Its log file. */
  get logFile(): string {
    return this.#logFile;
  }

  /** True while the server is meant to be up: starting, running, restarting or blocked. */
  get isUp(): boolean {
    return UP_STATES.has(this.#status.state);
  }

  /** The latest snapshot the actor published (or, before its first, what the machine foresees). */
  get status(): Snapshot {
    return this.#status;
  }

  /**
   * Sends a command; resolves with the actor's answer or rejects with its
   * {@link DomainError}, or with a timeout error when the actor does not
   * answer within the time the command can take.
   */
  request<K extends Command["kind"]>(command: Command & { kind: K }): Promise<Results[K]> {
    if (this.#closed) return Promise.reject(this.#gone("is shut down"));
    if (command.kind === "shutdown" && (this.#cancelCreation || this.#noWorker !== null)) {
      // No worker of it ever ran (not made yet, or it could not be made): nothing to stop.
      this.close();
      return Promise.resolve("stopped" as Results[K]);
    }
    if (this.#noWorker !== null) {
      return Promise.reject(this.#gone(`has no supervisor: ${this.#noWorker}`));
    }
    const id = this.#nextId++;
    const ms = this.#timeoutFor(command.kind);
    const answer = this.#requests.wait<Results[K]>(
      id,
      ms,
      () => this.#gone(`did not answer "${command.kind}" within ${Math.round(ms / 1000)}s`),
      this.#cancelCreation === null,
    );
    this.#foresee(command);
    this.#send({ type: "command", id, command });
    if (command.kind === "logs") {
      answer.then(
        (r) => this.#numbered = Math.max(this.#numbered, (r as LogTail).sent),
        () => {},
      );
    }
    return answer;
  }

  /** The dependencies it waits for, blocked, are all up: the machine spawns it. */
  depsUp(): void {
    if (this.#closed) return;
    this.#foresee({ kind: "deps_up" });
    this.#send({ type: "deps_up" });
  }

  /** Kills the server's process group and ends the actor: for an actor that does not answer. */
  kill(): void {
    const pid = this.#status.pid;
    if (pid !== null) signalGroup(pid, "SIGKILL");
    this.close();
  }

  /** How long `kind` may take: a stop or start may wait out the grace, then SIGKILL. */
  #timeoutFor(kind: Command["kind"]): number {
    const t = this.#opts.timeouts ?? { queryMs: QUERY_TIMEOUT_MS, marginMs: LIFECYCLE_MARGIN_MS };
    if (kind === "status" || kind === "logs") return t.queryMs;
    const stdin = machineConfig(this.#config).stdinFirstMs ?? 0;
    return stdin + this.#config.stop.graceMs + KILL_WAIT_MS + t.marginMs;
  }

  /** Whether the actor sends its lines as they come: only while somebody follows. */
  follow(on: boolean): void {
    if (on === this.#following) return;
    this.#following = on;
    if (!this.#closed) this.#send({ type: "follow", on });
  }

  /** Ends the worker or channel; call after a `shutdown` request resolved. */
  close(): void {
    this.#closed = true;
    this.#cancelCreation?.();
    this.#cancelCreation = null;
    this.#worker?.terminate();
    this.#closeChannel?.();
    this.#requests.rejectAll(this.#gone("is shut down"));
  }

  /**
   * Before the actor has published, the status is what the machine makes of
   * a lifecycle command sent to it: the actor takes the same step when it
   * gets there. Pure: nothing the step asks for is done here.
   */
  #foresee(command: Command | { kind: "deps_up" }) {
    if (this.#foreseen === null || command.kind === "status" || command.kind === "logs") return;
    const { model } = step(this.#foreseen, command, Date.now(), machineConfig(this.#config));
    this.#foreseen = model;
    this.#status = snapshotOf(this.name, model, NO_LOGS);
  }

  #send(msg: ToActor) {
    this.#endpoint.postMessage(msg);
  }

  /** A worker running the actor; null (and the requests failed) when none can be made. */
  #makeWorker(onmessage: (ev: MessageEvent) => void): Endpoint | null {
    let worker: Worker;
    try {
      worker = new Worker((this.#opts.workerModule ?? WORKER_MODULE).href, { type: "module" });
    } catch (e) {
      this.#noWorker = errorMessage(e);
      this.#requests.rejectAll(this.#gone(`has no supervisor: ${this.#noWorker}`));
      this.#opts.onWorkerError?.(this.#noWorker, false);
      return null;
    }
    worker.onmessage = onmessage;
    worker.onerror = (ev) => {
      // Without preventDefault an uncaught error in a worker takes the whole daemon down.
      ev.preventDefault();
      this.#replaceWorker(`${ev.message} (${ev.filename}:${ev.lineno})`);
    };
    this.#worker = worker;
    return worker as unknown as Endpoint;
  }

  #gone(why: string): DomainError {
    return new DomainError("Internal", `server "${this.name}" ${why}`);
  }

  #boot(resume?: { restartCount: number; until: number }) {
    const onmessage = (ev: MessageEvent) => this.#receive(ev.data as FromActor);
    // Messages wait here until the queue (worker_queue.ts) makes the worker or inline actor.
    const early: unknown[] = [];
    this.#endpoint = { postMessage: (m) => early.push(m), onmessage: null };
    this.#cancelCreation = workerQueue.add(() => {
      this.#cancelCreation = null;
      let endpoint: Endpoint | null = null;
      if ((this.#opts.mode ?? "worker") === "worker") endpoint = this.#makeWorker(onmessage);
      else {
        const channel = localChannel();
        new Actor(channel.b, this.#opts.ports ?? {});
        channel.a.onmessage = onmessage;
        this.#closeChannel = channel.close;
        endpoint = channel.a;
      }
      if (!endpoint) return;
      this.#endpoint = endpoint;
      for (const m of early) endpoint.postMessage(m);
      this.#requests.armAll();
    });
    this.#send({
      type: "init",
      config: this.#config,
      logFile: this.#logFile,
      ...(this.#opts.records ? { records: this.#opts.records } : {}),
      ...(resume ? { resume } : {}),
      numberedBefore: this.#numbered,
      ...(this.#opts.bridge ? { bridge: this.#opts.bridge } : {}),
    });
    if (this.#following) this.#send({ type: "follow", on: true });
  }

  /**
   * A dead worker: kill its server's process group (no orphan may keep the
   * port) and whatever its runs' records and marks still find — a child it
   * spawned but never reported included — fail what was in flight, and start
   * a fresh worker that brings the server back up if it was meant to be up.
   */
  #replaceWorker(message: string) {
    const last = this.#status;
    this.#worker?.terminate();
    this.#worker = null;
    if (last.pid !== null) signalGroup(last.pid, "SIGKILL");
    this.#requests.rejectAll(this.#gone(`lost its supervisor: ${message}`));
    this.#opts.onWorkerError?.(message, true);
    if (this.#closed) return;
    this.#foreseen = initialModel();
    this.#status = snapshotOf(this.name, this.#foreseen, NO_LOGS);
    const records = this.#opts.records;
    const reaped = records
      ? reapRecorded(records.dir, { log: this.#opts.log ?? (() => {}), server: this.name })
      : Promise.resolve([]);
    reaped.catch(() => []).then(() => {
      if (this.#closed) return;
      if (last.state === "restarting" && last.retryAt !== null) {
        this.#boot({ restartCount: last.restartCount, until: last.retryAt });
        return;
      }
      this.#boot();
      // A blocked server waits for its dependencies again; one that ran comes back.
      if (last.state === "blocked") this.request({ kind: "start", depsUp: false }).catch(() => {});
      else if (UP_STATES.has(last.state)) this.request({ kind: "start" }).catch(() => {});
    });
  }

  #receive(msg: FromActor) {
    switch (msg.type) {
      case "status":
        this.#foreseen = null;
        this.#status = msg.snapshot;
        this.#opts.onStatus?.(msg.snapshot);
        return;
      case "logs":
        this.#numbered = Math.max(this.#numbered, msg.batch.sent);
        this.#opts.onLogs?.(this.name, msg.batch);
        // The actor sends the next batch only now: the daemon's thread paces them.
        if (!this.#closed) this.#send({ type: "logs_taken" });
        return;
      case "ended":
        if (this.#opts.onEnded) this.#opts.onEnded(msg.record);
        else if (this.#opts.records) void removeRecord(this.#opts.records.dir, msg.record);
        return;
      case "reply":
        this.#requests.answer(
          msg.id,
          msg.ok
            ? { ok: true, value: msg.result }
            : { ok: false, error: new DomainError(msg.error.failure, msg.error.message) },
        );
    }
  }
}
