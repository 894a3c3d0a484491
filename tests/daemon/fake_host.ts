/**
 * A fake supervisor for the daemon's tests, made by the registry's host
 * factory: it runs the real machine (supervisor/core) on each request and
 * carries out its effects at once, with "processes" that are only pids — a
 * spawn succeeds (unless the world says it fails), a signal ends the
 * process and its group, and a probe passes when the test says the server
 * is ready. So the fleet and the dependency order are tested on the states
 * the machine decides, without actors, workers or processes.
 */
import type { ServerConfig } from "../../lib/config/schema.ts";
import { DomainError } from "../../lib/protocol/failures.ts";
import type { HostOptions, ServerHandle } from "../../lib/supervisor/hosting/host.ts";
import { UP_STATES } from "../../lib/supervisor/hosting/host.ts";
import { step } from "../../lib/supervisor/core/machine.ts";
import {
  type Effect,
  type Event,
  initialModel,
  machineConfig,
  type Model,
} from "../../lib/supervisor/core/model.ts";
import { NO_LOGS, type Snapshot, snapshotOf } from "../../lib/supervisor/core/snapshot.ts";
import type { Command, Results } from "../../lib/supervisor/messages.ts";
import type { HostFactory } from "../../lib/daemon/registry.ts";

/** What the fake processes do: which servers fail to spawn, which answer their probes. */
export class FakeWorld {
  readonly spawnFails = new Set<string>();
  readonly hosts = new Map<string, MachineHost>();
  /** Pids of every spawn, in order. */
  readonly spawned: number[] = [];
  #nextPid = 100;

  /** The registry's host factory. */
  readonly factory: HostFactory = (config, opts) => {
    const host = new MachineHost(config, opts, this);
    this.hosts.set(config.name, host);
    return host;
  };

  /** A new pid. */
  pid(): number {
    const pid = this.#nextPid++;
    this.spawned.push(pid);
    return pid;
  }

  /** The probe of `name`'s current run passes: with health checks, it becomes ready. */
  ready(name: string): void {
    this.hosts.get(name)!.probePasses();
  }
}

/** One server, driven by the real machine. */
export class MachineHost implements ServerHandle {
  readonly #opts: HostOptions;
  readonly #world: FakeWorld;
  #model: Model = initialModel();
  #status: Snapshot;
  #nextId = 1;
  readonly #waiting = new Map<number, (r: { ok: boolean; value: unknown }) => void>();

  constructor(readonly config: ServerConfig, opts: HostOptions, world: FakeWorld) {
    this.#opts = opts;
    this.#world = world;
    this.#status = snapshotOf(config.name, this.#model, NO_LOGS);
  }

  get name(): string {
    return this.config.name;
  }

  get logFile(): string {
    return `${this.#opts.logDir}/${this.name}.log`;
  }

  get status(): Snapshot {
    return this.#status;
  }

  get isUp(): boolean {
    return UP_STATES.has(this.#status.state);
  }

  request<K extends Command["kind"]>(command: Command & { kind: K }): Promise<Results[K]> {
    if (command.kind === "status") return Promise.resolve(this.#status as Results[K]);
    if (command.kind === "logs") {
      return Promise.resolve({ lines: [], sent: 0 } as unknown as Results[K]);
    }
    const id = this.#nextId++;
    const answer = new Promise<Results[K]>((resolve, reject) => {
      this.#waiting.set(id, (r) => r.ok ? resolve(r.value as Results[K]) : reject(r.value));
    });
    // As through a mailbox: the request is taken on a later turn.
    queueMicrotask(() => this.#apply({ ...command, request: id } as Event));
    return answer;
  }

  depsUp(): void {
    queueMicrotask(() => this.#apply({ kind: "deps_up" }));
  }

  probePasses(): void {
    const pid = this.#status.pid;
    if (pid === null) throw new Error(`${this.name} has no process to probe`);
    this.#apply({
      kind: "probed",
      pid,
      result: { status: "healthy", message: "ok", latencyMs: 1 },
    });
  }

  follow(): void {}

  kill(): void {}

  close(): void {}

  #apply(event: Event) {
    const r = step(this.#model, event, Date.now(), machineConfig(this.config));
    const before = this.#model;
    this.#model = r.model;
    if (r.model.state !== before.state || r.model.health !== before.health) {
      this.#status = snapshotOf(this.name, r.model, NO_LOGS);
      this.#opts.onStatus?.(this.#status);
    }
    for (const effect of r.effects) this.#effect(effect);
  }

  #effect(e: Effect) {
    switch (e.kind) {
      case "spawn":
        if (this.#world.spawnFails.has(this.name)) {
          return this.#apply({
            kind: "spawn_failed",
            reason: `command "${this.config.command}" not found`,
            cause: "spawn_failed",
          });
        }
        return this.#apply({ kind: "spawned", pid: this.#world.pid() });
      case "signal_group":
        // Every fake process ends at the first signal, and its group with it.
        return this.#apply({
          kind: "exited",
          pid: e.pgid,
          code: null,
          signal: e.signal,
          groupAlive: false,
        });
      case "reply": {
        const settle = this.#waiting.get(e.request);
        this.#waiting.delete(e.request);
        const r = e.reply;
        settle?.(
          r.ok
            ? { ok: true, value: r.result }
            : { ok: false, value: new DomainError(r.error.failure, r.error.message) },
        );
        return;
      }
      case "set_timer":
      case "cancel_timer":
      case "probe":
      case "exit":
        // Time does not pass here, and probes pass only when the test says so.
        return;
    }
  }
}
