/**
 * Runs one server's state machine and carries out its effects: spawning,
 * signalling the process group, timers, log capture. Events are handled one at
 * a time through a mailbox, so the machine never sees two at once; long waits
 * (a backoff, a process's exit, a grace period) come back as new events.
 *
 * The actor speaks only through an {@link Endpoint}: a Worker's `self` in the
 * daemon, one end of a `MessageChannel` in tests.
 */
import type { ServerConfig } from "../config/schema.ts";
import { RpcCode } from "../errors.ts";
import { LineSplitter } from "../logs/lines.ts";
import { LogFile } from "../logs/log_file.ts";
import { type LogLine, LogRing, type Stream } from "../logs/ring.ts";
import { tailFromFiles } from "../logs/read_files.ts";
import { terminateGroup } from "../process/group.ts";
import { portInUse, portOwner } from "../process/port.ts";
import { processStartTime, removeRecord, writeRecord } from "../process/records.ts";
import { type ChildProcess, denoSpawner, type Spawner, SpawnError } from "../process/spawner.ts";
import type { StatusDetail } from "../rpc/types.ts";
import {
  type Effect,
  type Event,
  initialModel,
  type MachineConfig,
  type Model,
  pidOf,
  step,
} from "./machine.ts";
import type { Command, Endpoint, ErrorReply, FromActor, ToActor } from "./messages.ts";

/** Time and timers, injectable. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId): void;
}

/** Whatever a clock's `setTimeout` returns. */
export type TimerId = ReturnType<typeof setTimeout>;

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
};

/** Answers "is this port taken, and by whom?"; null when free. */
export type PortGuard = (port: number) => Promise<string | null>;

/** The real port guard: a TCP connect to 127.0.0.1, then a look for the owner. */
export const tcpPortGuard: PortGuard = async (port) => {
  if (!(await portInUse(port))) return null;
  const owner = await portOwner(port);
  return `port ${port} is already in use${owner ? ` by ${owner}` : ""}`;
};

/** The actor's ports, with real defaults. */
export interface ActorPorts {
  readonly spawner?: Spawner;
  readonly clock?: Clock;
  readonly portGuard?: PortGuard;
}

/** How long to wait for a dead group's pipes to close before giving up on them. */
const PIPE_DRAIN_MS = 1_000;
/** Flush the log file after this long, or at once past {@link FLUSH_CHARS}. */
const FLUSH_MS = 20;
const FLUSH_CHARS = 256 * 1024;
/** Lines read from the files when the ring is empty and no tail was asked for. */
const DEFAULT_FILE_TAIL = 100;
/** How many stderr lines `status` shows for a failed or restarting server. */
const STDERR_TAIL = 10;

type Waiter = (model: Model) => boolean;

/** One server's supervisor. */
export class Actor {
  readonly #endpoint: Endpoint;
  readonly #spawner: Spawner;
  readonly #clock: Clock;
  readonly #portGuard: PortGuard;

  #config!: ServerConfig;
  #machine!: MachineConfig;
  #model: Model = initialModel();
  #logFile!: LogFile;
  readonly #ring = new LogRing();
  #queue: Promise<void> = Promise.resolve();
  #timer: TimerId | null = null;
  #flushTimer: TimerId | null = null;
  #child: ChildProcess | null = null;
  readonly #terminating = new Map<number, Promise<void>>();
  #waiters: Waiter[] = [];
  #spawnFailure: ErrorReply | null = null;
  #exited = false;
  #pidDir: string | undefined;
  /** Lines not yet sent to the daemon; only collected while somebody follows. */
  #followBatch: LogLine[] | null = null;

  constructor(endpoint: Endpoint, ports: ActorPorts = {}) {
    this.#endpoint = endpoint;
    this.#spawner = ports.spawner ?? denoSpawner;
    this.#clock = ports.clock ?? systemClock;
    this.#portGuard = ports.portGuard ?? tcpPortGuard;
    endpoint.onmessage = (ev: MessageEvent) => this.#receive(ev.data as ToActor);
  }

  #receive(msg: ToActor) {
    switch (msg.type) {
      case "init":
        this.#config = msg.config;
        this.#pidDir = msg.pidDir;
        this.#machine = { restart: msg.config.restart, graceMs: msg.config.stop.graceMs };
        this.#logFile = new LogFile(`${msg.logDir}/${msg.config.name}.log`, {
          maxSize: msg.config.logs.maxSizeBytes,
          keep: msg.config.logs.keep,
        });
        this.#publish();
        break;
      case "command":
        this.#enqueue(() => this.#command(msg.id, msg.command));
        break;
      case "follow":
        this.#followBatch = msg.on ? (this.#followBatch ?? []) : null;
        break;
    }
  }

  #enqueue(task: () => Promise<void> | void) {
    this.#queue = this.#queue.then(task).catch((e) => {
      // A bug here must not wedge the mailbox; surface it and let the host decide.
      queueMicrotask(() => {
        throw e;
      });
    });
  }

  #post(msg: FromActor) {
    this.#endpoint.postMessage(msg);
  }

  #reply(id: number, result: unknown) {
    this.#post({ type: "reply", id, ok: true, result });
  }

  #fail(id: number, error: ErrorReply) {
    this.#post({ type: "reply", id, ok: false, error });
  }

  async #command(id: number, command: Command) {
    const kind = this.#model.state.kind;
    switch (command.kind) {
      case "status":
        this.#reply(id, this.#snapshot());
        return;
      case "logs":
        // Lines already in a follow batch are in the ring too: send the batch
        // first so the daemon can tell which live lines the snapshot covers.
        this.#flushLog();
        this.#reply(id, this.#logSnapshot(command.tail, command.stream));
        return;
      case "start":
        if (kind === "running" || kind === "starting") {
          this.#reply(id, "already_running");
          return;
        }
        this.#spawnFailure = null;
        this.#waitUntilUp(id, "started");
        await this.#apply({ kind: "start" });
        return;
      case "restart":
        this.#spawnFailure = null;
        this.#waitUntilUp(id, "restarted");
        await this.#apply({ kind: "restart" });
        return;
      case "stop":
        if (kind === "stopped") {
          this.#reply(id, "not_running");
          return;
        }
        this.#waiters.push((m) => {
          if (m.state.kind !== "stopped") return false;
          this.#reply(id, "stopped");
          return true;
        });
        await this.#apply({ kind: "stop" });
        return;
      case "shutdown":
        this.#waiters.push(() => {
          if (!this.#exited) return false;
          this.#reply(id, "stopped");
          return true;
        });
        await this.#apply({ kind: "shutdown" });
        return;
    }
  }

  /** Replies `ok` once a spawn succeeded, or the spawn's error once it failed. */
  #waitUntilUp(id: number, ok: string) {
    this.#waiters.push((m) => {
      switch (m.state.kind) {
        case "running":
          this.#reply(id, ok);
          return true;
        case "starting":
          if (m.state.pid === null) return false;
          this.#reply(id, ok);
          return true;
        case "failed":
          this.#fail(
            id,
            this.#spawnFailure ?? { code: RpcCode.SpawnFailed, message: m.state.reason },
          );
          return true;
        case "stopped":
          this.#fail(id, { code: RpcCode.NotRunning, message: "stopped before it was up" });
          return true;
        case "stopping":
        case "restarting":
          return false;
      }
    });
  }

  /** Feeds one event to the machine and carries out what it asks. */
  async #apply(event: Event) {
    const before = this.#model;
    const { model, effects } = step(before, event, this.#clock.now(), this.#machine);
    this.#model = model;
    if (model !== before) this.#publish();
    for (const effect of effects) await this.#effect(effect);
    this.#waiters = this.#waiters.filter((w) => !w(this.#model));
  }

  async #effect(effect: Effect) {
    switch (effect.kind) {
      case "spawn":
        await this.#spawn();
        return;
      case "terminate":
        this.#terminate(effect.pid, effect.graceMs);
        return;
      case "set_timer":
        this.#cancelTimer();
        this.#timer = this.#clock.setTimeout(() => {
          this.#timer = null;
          this.#enqueue(() => this.#apply({ kind: "timer" }));
        }, Math.max(0, effect.at - this.#clock.now()));
        return;
      case "cancel_timer":
        this.#cancelTimer();
        return;
      case "exit":
        this.#exited = true;
        this.#cancelTimer();
        this.#flushLog();
        this.#logFile.close();
        return;
    }
  }

  #cancelTimer() {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  async #spawn() {
    const c = this.#config;
    const conflict = await this.#portGuard(c.port);
    if (conflict) {
      this.#spawnFailure = { code: RpcCode.PortConflict, message: conflict };
      await this.#apply({ kind: "spawn_failed", reason: conflict });
      return;
    }
    let child: ChildProcess;
    try {
      child = this.#spawner.spawn({
        command: c.command,
        args: c.args,
        env: c.env,
        ...(c.workingDir === undefined ? {} : { cwd: c.workingDir }),
      });
    } catch (e) {
      const reason = e instanceof SpawnError ? e.message : `spawn failed: ${String(e)}`;
      this.#spawnFailure = { code: RpcCode.SpawnFailed, message: reason };
      await this.#apply({ kind: "spawn_failed", reason });
      return;
    }
    this.#child = child;
    await this.#record(child.pid);
    this.#watch(child);
    await this.#apply({ kind: "spawned", pid: child.pid });
  }

  /** Records the child for the next daemon, should this one be killed. */
  async #record(pid: number) {
    if (!this.#pidDir) return;
    try {
      const startTime = await processStartTime(pid);
      if (startTime === undefined) return;
      await writeRecord(this.#pidDir, {
        name: this.#config.name,
        pid,
        pgid: pid,
        start_time: startTime,
        grace_ms: this.#machine.graceMs,
      });
    } catch {
      // Without a record only crash recovery is weaker; supervision goes on.
    }
  }

  /** Starts (or joins) the group's termination: SIGTERM, grace, SIGKILL. */
  #terminate(pid: number, graceMs: number): Promise<void> {
    let done = this.#terminating.get(pid);
    if (!done) {
      done = terminateGroup(pid, graceMs).finally(() => this.#terminating.delete(pid));
      this.#terminating.set(pid, done);
    }
    return done;
  }

  /**
   * Captures the child's output and, when the leader exits, sweeps what it
   * left in its group before telling the machine: no grandchild may outlive
   * it and hold its port.
   */
  #watch(child: ChildProcess) {
    const out = this.#capture(child.stdout, "stdout");
    const err = this.#capture(child.stderr, "stderr");
    child.status.then(async (status) => {
      await this.#terminate(child.pid, this.#machine.graceMs);
      let drainTimer: TimerId | undefined;
      await Promise.race([
        Promise.all([out.done, err.done]),
        new Promise((r) => drainTimer = this.#clock.setTimeout(() => r(null), PIPE_DRAIN_MS)),
      ]);
      if (drainTimer !== undefined) this.#clock.clearTimeout(drainTimer);
      // A process outside the group (one that called setsid) may still hold the pipes.
      await Promise.all([out.cancel(), err.cancel()]);
      this.#flushLog();
      if (this.#child === child) {
        this.#child = null;
        if (this.#pidDir) await removeRecord(this.#pidDir, this.#config.name);
      }
      this.#enqueue(() =>
        this.#apply({ kind: "exited", code: status.code, signal: status.signal })
      );
    });
  }

  #capture(stream: ReadableStream<Uint8Array>, name: Stream) {
    const reader = stream.getReader();
    const splitter = new LineSplitter();
    const take = (lines: string[]) => {
      if (lines.length === 0) return;
      const ts = this.#clock.now();
      const batch = this.#followBatch;
      for (const line of lines) {
        const item = { stream: name, line, ts };
        this.#ring.push(item);
        this.#logFile.append(name, line, ts);
        batch?.push(item);
      }
      if (this.#logFile.pendingChars >= FLUSH_CHARS) this.#flushLog();
      else if (this.#flushTimer === null) {
        this.#flushTimer = this.#clock.setTimeout(() => this.#flushLog(), FLUSH_MS);
      }
    };
    const done = (async () => {
      try {
        while (true) {
          const { value, done } = await reader.read();
          if (done) break;
          take(splitter.push(value));
        }
      } catch {
        // Cancelled, or the pipe broke: keep what was read.
      }
      take(splitter.end());
    })();
    return {
      done,
      cancel: async () => {
        await reader.cancel().catch(() => {});
        await done;
      },
    };
  }

  #flushLog() {
    if (this.#flushTimer !== null) this.#clock.clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    const errors = this.#logFile.writeErrors;
    this.#logFile.flush();
    if (this.#followBatch?.length) {
      this.#post({ type: "logs", lines: this.#followBatch });
      this.#followBatch = [];
    }
    if (this.#logFile.writeErrors !== errors) this.#publish();
  }

  /** The last `tail` lines (all the ring holds when undefined); from the files when the ring holds fewer. */
  #logSnapshot(tail: number | undefined, stream: Stream | undefined): LogLine[] {
    const fromRing = this.#ring.tail(tail, stream);
    const want = tail ?? (fromRing.length === 0 ? DEFAULT_FILE_TAIL : 0);
    if (fromRing.length >= want) return fromRing;
    return tailFromFiles(this.#logFile.path, {
      n: want,
      keep: this.#config.logs.keep,
      ...(stream ? { stream } : {}),
    });
  }

  #publish() {
    this.#post({ type: "status", status: this.#snapshot() });
  }

  #snapshot(): StatusDetail {
    const c = this.#config;
    const m = this.#model;
    const s = m.state;
    const now = this.#clock.now();
    const pid = pidOf(s);
    const since = s.kind === "running" || s.kind === "starting" || s.kind === "stopping"
      ? s.since
      : undefined;
    const showStderr = s.kind === "failed" || s.kind === "restarting";
    const health = c.health ? "unknown" : undefined;
    const url = c.health?.kind === "mcp" ? `http://127.0.0.1:${c.port}${c.health.path}` : undefined;
    return {
      name: c.name,
      state: s.kind,
      ...(pid === null ? {} : { pid }),
      port: c.port,
      ...(url === undefined ? {} : { url }),
      ...(since === undefined
        ? {}
        : { since_unix_ms: since, uptime_secs: Math.floor((now - since) / 1000) }),
      restart_count: m.restartCount,
      ...(m.lastExit?.code == null ? {} : { last_exit: m.lastExit.code }),
      ...(m.lastExit?.signal == null ? {} : { last_signal: m.lastExit.signal }),
      ...(m.lastExit === null ? {} : {
        last_exit_detail: {
          code: m.lastExit.code,
          signal: m.lastExit.signal,
          at_unix_ms: m.lastExit.at,
        },
      }),
      ...(health === undefined ? {} : { health }),
      ...(m.lastError === null ? {} : { last_error: m.lastError }),
      ...(s.kind === "restarting" ? { retry_at_unix_ms: s.until } : {}),
      transitions: m.transitions.map((t) => ({
        from: t.from,
        to: t.to,
        at_unix_ms: t.at,
        reason: t.reason,
      })),
      stderr_tail: showStderr ? this.#ring.tail(STDERR_TAIL, "stderr").map((l) => l.line) : [],
      log_file: this.#logFile.path,
      log_write_errors: this.#logFile.writeErrors,
      config_file: c.file,
      command: c.command,
      args: c.args,
      env_names: Object.keys(c.env),
      ...(c.workingDir === undefined ? {} : { working_dir: c.workingDir }),
      autostart: c.autostart,
      depends_on: c.dependsOn,
      policy: c.restart.policy,
    };
  }
}
