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
import { type Clock, systemClock, type TimerId } from "../clock.ts";
import type { ServerConfig } from "../config/schema.ts";
import { LogCapture } from "../logs/capture.ts";
import { type PortGuard, tcpPortGuard } from "../process/port.ts";
import { denoSpawner, type Spawner } from "../process/spawner.ts";
import { answer, type ErrorReply, type Waiting } from "./core/answers.ts";
import { watchChild } from "./child_watch.ts";
import { launch } from "./launch.ts";
import { type Prober, type ProbeResult, realProber } from "../health/probe.ts";
import { step } from "./core/machine.ts";
import type { Command, Endpoint, FromActor, Results, ToActor } from "./messages.ts";
import {
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
  readonly #spawner: Spawner;
  readonly #clock: Clock;
  readonly #portGuard: PortGuard;
  readonly #prober: Prober;

  #config!: ServerConfig;
  #machine!: MachineConfig;
  #logs!: LogCapture;
  /** Where spawns are recorded, and by which daemon; none in tests. */
  #records: { readonly dir: string; readonly daemon: string } | undefined;
  #model: Model = initialModel();
  #queue: Promise<void> = Promise.resolve();
  readonly #timers = new Map<TimerName, TimerId>();
  /** Timers due at once, in the mailbox: cancelling one takes its token away. */
  readonly #due = new Map<TimerName, symbol>();
  /** Lifecycle commands not answered yet. */
  #pending: { id: number; command: Waiting; done: Results[Waiting] }[] = [];
  /** Shutdown commands, answered by the `exit` effect. */
  readonly #shutdowns: number[] = [];
  /** Set by the `exit` effect: the actor is done. */
  #exited = false;

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
        this.#publish();
        if (msg.resume) {
          const resume = msg.resume;
          this.#enqueue(() => this.#apply({ kind: "resume", ...resume }));
        }
        break;
      case "command":
        this.#enqueue(() => this.#command(msg.id, msg.command));
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

  #reply<K extends Command["kind"]>(id: number, _kind: K, result: Results[K]) {
    this.#post({ type: "reply", id, ok: true, result });
  }

  #fail(id: number, error: ErrorReply) {
    this.#post({ type: "reply", id, ok: false, error });
  }

  async #command(id: number, command: Command) {
    const kind = this.#model.state.kind;
    if (this.#exited && command.kind !== "status" && command.kind !== "logs") {
      // After its shutdown an actor starts nothing again: the daemon is going away.
      if (command.kind === "stop") return this.#reply(id, "stop", "not_running");
      if (command.kind === "shutdown") return this.#reply(id, "shutdown", "stopped");
      return this.#fail(id, { failure: "Internal", message: "its supervisor has shut down" });
    }
    switch (command.kind) {
      case "status":
        return this.#reply(id, "status", this.#snapshot());
      case "logs":
        // The snapshot says how many followed lines it covers (TailSnapshot.sent).
        return this.#reply(id, "logs", this.#logs.snapshot(command.tail, command.stream));
      case "start":
        if (kind === "running") return this.#reply(id, "start", "already_running");
        if (kind === "starting") return this.#reply(id, "start", "starting");
        return await this.#await(id, "start", "started");
      case "restart":
        return await this.#await(id, "restart", "restarted");
      case "stop":
        if (kind === "stopped") return this.#reply(id, "stop", "not_running");
        return await this.#await(id, "stop", "stopped");
      case "shutdown":
        this.#shutdowns.push(id);
        return await this.#apply({ kind: "shutdown" });
    }
  }

  /** Feeds `command` to the machine; it is answered once {@link answer} knows how. */
  async #await<K extends Waiting>(id: number, command: K, done: Results[K]) {
    this.#pending.push({ id, command, done });
    await this.#apply({ kind: command });
  }

  #settle() {
    this.#pending = this.#pending.filter((p) => {
      const a = answer(p.command, this.#model);
      if (a === undefined) return true;
      if ("error" in a) this.#fail(p.id, a.error);
      else this.#post({ type: "reply", id: p.id, ok: true, result: p.done });
      return false;
    });
  }

  /** Feeds one event to the machine and carries out what it asks. */
  async #apply(event: Event) {
    const before = this.#model;
    const { model, effects } = step(before, event, this.#clock.now(), this.#machine);
    this.#model = model;
    if (model !== before) this.#publish();
    for (const effect of effects) await this.#effect(effect);
    this.#settle();
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
        this.#prober(health, this.#config.port)
          .catch((e): ProbeResult => ({ status: "failed", message: String(e), latencyMs: 0 }))
          .then((result) => this.#enqueue(() => this.#apply({ kind: "probed", pid, result })));
        return;
      }
      case "exit":
        this.#exited = true;
        for (const timer of [...this.#timers.keys(), ...this.#due.keys()]) this.#cancelTimer(timer);
        this.#logs.close();
        for (const id of this.#shutdowns.splice(0)) this.#reply(id, "shutdown", "stopped");
        return;
    }
  }

  #cancelTimer(timer: TimerName) {
    const id = this.#timers.get(timer);
    if (id !== undefined) this.#clock.clearTimeout(id);
    this.#timers.delete(timer);
    this.#due.delete(timer);
  }

  async #spawn() {
    const records = this.#records;
    const run = await launch(this.#config, {
      spawner: this.#spawner,
      portGuard: this.#portGuard,
      graceMs: this.#machine.graceMs,
      ...(records ? { records } : {}),
    });
    if ("reason" in run) return await this.#apply({ kind: "spawn_failed", ...run });
    const { child, record, recorded } = run;
    const { pid } = child;
    // Said before the exit is handled, so the daemon hears of it before any reply that follows.
    const ended = () => {
      if (records) recorded.then(() => this.#post({ type: "ended", record }));
    };
    watchChild(child, {
      spawner: this.#spawner,
      logs: this.#logs,
      clock: this.#clock,
      groupTimeoutMs: this.#machine.graceMs + KILL_WAIT_MS + 1_000,
      onExit: (exit) => {
        // A group that never empties keeps its record, so a later reap can still find it.
        if (!exit.groupAlive) ended();
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
    return snapshotOf(this.#config.name, this.#model, this.#logs);
  }

  #publish() {
    this.#post({ type: "status", snapshot: this.#snapshot() });
  }
}
