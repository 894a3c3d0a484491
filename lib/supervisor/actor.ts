/**
 * Runs one server's state machine and carries out its effects: spawning,
 * signalling the process group, timers. Events are handled one at a time
 * through a mailbox, so the machine never sees two at once; long waits (a
 * backoff, a process's exit, a grace period) come back as new events.
 *
 * The actor speaks only through an {@link Endpoint}: a Worker's `self` in the
 * daemon, one end of an in-process channel inline and in tests. Its ports
 * (process spawner, clock, port guard) have real defaults and fakes in tests.
 */
import { errorMessage } from "../error_message.ts";
import type { Recording } from "../process/records.ts";
import { type Clock, systemClock, type TimerId } from "../clock.ts";
import type { ServerConfig } from "../config/schema.ts";
import { LogCapture } from "../logs/capture.ts";
import { type PortGuard, portTaken, tcpPortGuard } from "../process/port.ts";
import type { Bridge, BridgeOptions } from "../bridge/bridge.ts";
import { PerSessionBridge } from "../bridge/per_session.ts";
import { SharedBridge } from "../bridge/shared.ts";
import { SessionRuns } from "./session_run.ts";
import { VERSION } from "../version.ts";
import { denoSpawner, type Spawner } from "../process/spawner.ts";
import { watchChild } from "./child_watch.ts";
import { launch } from "./launch.ts";
import { type Prober, type ProbeResult, realProber } from "../health/probe.ts";
import { step } from "./core/machine.ts";
import type { Command, Endpoint, FromActor, ToActor } from "./messages.ts";
import {
  describeExit,
  type Effect,
  type Event,
  initialModel,
  KILL_WAIT_MS,
  type MachineConfig,
  machineConfig,
  type Model,
  type TimerName,
} from "./core/model.ts";
import { snapshotOf } from "./core/snapshot.ts";

/** The actor's ports, with real defaults. */
export interface ActorPorts {
  readonly spawner?: Spawner;
  readonly clock?: Clock;
  readonly portGuard?: PortGuard;
  readonly prober?: Prober;
}

/** One server's supervisor. */
export class Actor {
  readonly #endpoint: Endpoint;
  /** The process port; a per-session stdio server's runs in front of it (session_run.ts). */
  #spawner: Spawner;
  readonly #clock: Clock;
  readonly #portGuard: PortGuard;
  readonly #prober: Prober;

  #config!: ServerConfig;
  #machine!: MachineConfig;
  #logs!: LogCapture;
  /** Where spawns are recorded, and by which daemon; none in tests. */
  #records: Recording | undefined;
  #model: Model = initialModel();
  #queue: Promise<void> = Promise.resolve();
  readonly #timers = new Map<TimerName, TimerId>();
  /** A stdio server's endpoint and channel; null for a server that listens itself. */
  #bridge: Bridge | null = null;
  /** A per-session stdio server's bridge, which the machine asks to start a session's child again. */
  #perSession: PerSessionBridge | null = null;
  /** A per-session stdio server's runs, told when a run is being stopped. */
  #runs: SessionRuns | null = null;
  /** The mark of the last run spawned: its processes carry it (launch.ts). */
  #run: string | null = null;
  /** Timers due at once, in the mailbox: cancelling one takes its token away. */
  readonly #due = new Map<TimerName, symbol>();

  constructor(endpoint: Endpoint, ports: ActorPorts = {}) {
    this.#endpoint = endpoint;
    this.#spawner = ports.spawner ?? denoSpawner;
    this.#clock = ports.clock ?? systemClock;
    this.#portGuard = ports.portGuard ?? tcpPortGuard;
    this.#prober = ports.prober ?? realProber;
    endpoint.onmessage = (ev: MessageEvent) => this.#receive(ev.data as ToActor);
  }

  #receive(msg: ToActor) {
    switch (msg.type) {
      case "init":
        this.#config = msg.config;
        this.#records = msg.records;
        this.#machine = machineConfig(msg.config);
        this.#logs = new LogCapture({
          path: msg.logFile,
          maxSize: msg.config.logs.maxSizeBytes,
          keep: msg.config.logs.keep,
          clock: this.#clock,
          numberedBefore: msg.numberedBefore ?? 0,
          onFollowLines: (batch) => this.#post({ type: "logs", batch }),
          onWriteErrors: () => this.#publish(),
        });
        if (msg.config.transport === "stdio" && msg.bridge) this.#bridge = this.#makeBridge(msg);
        // Nothing to publish yet: the host shows what the machine makes of a new server.
        if (msg.resume) {
          const resume = msg.resume;
          this.#enqueue(() => this.#apply({ kind: "resume", ...resume }));
        }
        break;
      case "command":
        this.#enqueue(() => this.#command(msg.id, msg.command));
        break;
      case "deps_up":
        this.#enqueue(() => this.#apply({ kind: "deps_up" }));
        break;
      case "follow":
        this.#logs.follow(msg.on);
        break;
      case "logs_taken":
        this.#logs.taken();
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

  async #command(id: number, command: Command) {
    switch (command.kind) {
      case "status":
        return this.#post({ type: "reply", id, ok: true, result: this.#snapshot() });
      case "logs": {
        // The tail says how many followed lines it covers (LogTail.sent).
        const tail = this.#logs.tail(command.tail, command.stream);
        return this.#post({ type: "reply", id, ok: true, result: tail });
      }
      default:
        // A lifecycle request: the machine answers it, now or once it knows how.
        return await this.#apply({ ...command, request: id });
    }
  }

  /** Feeds one event to the machine and carries out what it asks. */
  async #apply(event: Event) {
    const before = this.#model;
    const { model, effects } = step(before, event, this.#clock.now(), this.#machine);
    this.#model = model;
    if (shownChanged(model, before)) this.#publish();
    for (const effect of effects) await this.#effect(effect);
  }

  async #effect(effect: Effect) {
    switch (effect.kind) {
      case "spawn":
        return await this.#spawn();
      case "signal_group":
        try {
          this.#spawner.signalGroup(effect.pgid, effect.signal);
        } catch {
          // Not ours to signal any more: the group watcher reports it gone.
        }
        return;
      case "set_timer": {
        this.#cancelTimer(effect.timer);
        const { timer } = effect;
        const ms = effect.at - this.#clock.now();
        if (ms <= 0) {
          // Due now (a zero backoff): into the mailbox at once, not through a timer's
          // millisecond or two — unless cancelled before its turn comes.
          const token = Symbol(timer);
          this.#due.set(timer, token);
          this.#enqueue(() => {
            if (this.#due.get(timer) !== token) return;
            this.#due.delete(timer);
            return this.#apply({ kind: "timer", timer });
          });
          return;
        }
        const fire = () => {
          this.#timers.delete(timer);
          this.#enqueue(() => this.#apply({ kind: "timer", timer }));
        };
        this.#timers.set(timer, this.#clock.setTimeout(fire, ms));
        return;
      }
      case "cancel_timer":
        return this.#cancelTimer(effect.timer);
      case "probe": {
        // Off the mailbox: a slow server must not hold up a stop or a status.
        const { pid } = effect;
        const health = this.#config.health!;
        const bridge = this.#bridge;
        (bridge ? bridge.probe(health.timeoutMs) : this.#prober(health, this.#config.port))
          .catch((e): ProbeResult => ({ status: "failed", message: errorMessage(e), latencyMs: 0 }))
          .then((result) => this.#enqueue(() => this.#apply({ kind: "probed", pid, result })));
        return;
      }
      case "reply": {
        const r = effect.reply;
        return this.#post(
          r.ok
            ? { type: "reply", id: effect.request, ok: true, result: r.result }
            : { type: "reply", id: effect.request, ok: false, error: r.error },
        );
      }
      case "close_stdin": {
        this.#bridge?.closeInput();
        const s = this.#model.state;
        if (this.#runs && s.kind === "stopping") this.#runs.ending(s.pid);
        return;
      }
      case "restart_session":
        return this.#perSession?.restartSession(effect.session);
      case "exit":
        for (const timer of [...this.#timers.keys(), ...this.#due.keys()]) this.#cancelTimer(timer);
        this.#logs.close();
        await this.#bridge?.close();
        return;
    }
  }

  /**
   * A stdio server's bridge: its lines go to the server's log as stdout's. A
   * per-session one gets its children from the runs, which stand in for the
   * spawner.
   */
  #makeBridge(init: Extract<ToActor, { type: "init" }>): Bridge {
    const c = init.config;
    const secrets = init.bridge!;
    const opts: BridgeOptions = {
      name: c.name,
      port: c.port,
      token: secrets.token,
      sessionKey: Uint8Array.from(atob(secrets.sessionKey), (ch) => ch.charCodeAt(0)),
      endedFile: secrets.endedFile,
      readyWaitMs: c.health?.startPeriodMs ?? 30_000,
      logMessages: c.stdio?.logMessages ?? false,
      log: (line) => this.#logs.line("stdout", line),
      version: VERSION,
      clock: this.#clock,
    };
    if (c.stdio?.sharing !== "per-session") return new SharedBridge(opts);
    const runs = new SessionRuns(this.#spawner, {
      stdinFirstMs: this.#machine.stdinFirstMs ?? 0,
      graceMs: this.#machine.graceMs,
      clock: this.#clock,
    });
    this.#spawner = this.#runs = runs;
    return this.#perSession = new PerSessionBridge({
      ...opts,
      maxSessions: c.stdio.maxSessions,
      sessionIdleMs: c.stdio.sessionIdleMs,
      children: runs,
      sessionExited: (session, exit) =>
        this.#enqueue(() => {
          const s = this.#model.state;
          if (s.kind !== "running") return;
          return this.#apply({ kind: "session_exited", pid: s.pid, session, ...exit });
        }),
    });
  }

  #cancelTimer(timer: TimerName) {
    const id = this.#timers.get(timer);
    if (id !== undefined) this.#clock.clearTimeout(id);
    this.#timers.delete(timer);
    this.#due.delete(timer);
  }

  async #spawn() {
    const records = this.#records;
    const bridge = this.#bridge;
    if (bridge) {
      // Its endpoint is the port's user: listening is the port guard, once, for every run.
      const taken = await bridge.listen(portTaken);
      if (taken) {
        return await this.#apply({ kind: "spawn_failed", reason: taken, cause: "port_conflict" });
      }
    }
    const run = await launch(this.#config, {
      spawner: this.#spawner,
      portGuard: bridge ? () => Promise.resolve(null) : this.#portGuard,
      graceMs: this.#machine.graceMs,
      ...(bridge ? { stdin: "piped" as const } : {}),
      ...(records ? { records } : {}),
    });
    if ("reason" in run) return await this.#apply({ kind: "spawn_failed", ...run });
    const { child, record, recorded } = run;
    const { pid } = child;
    this.#run = record.run ?? null;
    // Said before the exit is handled, so the daemon hears of it before any reply that follows.
    const ended = () => {
      if (records) recorded.then(() => this.#post({ type: "ended", record }));
    };
    watchChild(child, {
      spawner: this.#spawner,
      logs: this.#logs,
      clock: this.#clock,
      groupTimeoutMs: this.#machine.graceMs + KILL_WAIT_MS + 1_000,
      ...(bridge && child.stdin ? { stdout: (out) => bridge.attach(pid, child.stdin!, out) } : {}),
      onExit: (exit) => {
        // A group that never empties keeps its record, so a later reap can still find it.
        if (!exit.groupAlive) ended();
        bridge?.childGone(`the server's process ${describeExit(exit)}`);
        this.#enqueue(() => this.#apply({ kind: "exited", pid, ...exit }));
      },
      onGroupGone: () => {
        ended();
        this.#enqueue(() => this.#apply({ kind: "group_gone", pid }));
      },
    });
    await this.#apply({ kind: "spawned", pid });
  }

  #snapshot() {
    const snapshot = snapshotOf(this.#config.name, this.#model, this.#logs);
    return {
      ...snapshot,
      ...(this.#bridge ? { bridge: this.#bridge.status() } : {}),
      ...(snapshot.pid !== null && this.#run ? { run: this.#run } : {}),
    };
  }

  #publish() {
    const state = this.#model.state.kind;
    if (this.#bridge) {
      this.#bridge.serverState(state);
      // The endpoint lives from the server's start to its stop.
      if (state === "stopped") void this.#bridge.close();
    }
    this.#post({ type: "status", snapshot: this.#snapshot() });
  }
}

/** What of a model a snapshot shows: a change to any is published (pending requests are not). */
const SHOWN = ["state", "transitions", "health", "restartCount", "lastExit", "lastError"] as const;

/** Whether `a` and `b` differ in what a snapshot shows (a step makes new values only for what it changes). */
function shownChanged(a: Model, b: Model): boolean {
  return SHOWN.some((k) => a[k] !== b[k]);
}
