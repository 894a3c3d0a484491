/**
 * Fakes of the actor's ports: a clock that moves only when told, and a
 * spawner whose "processes" are objects that obey signals the way the real
 * ones do (a leader, maybe a lingering grandchild, maybe deaf to SIGTERM).
 */
import type { Clock, TimerId } from "../../lib/clock.ts";
import {
  type ChildProcess,
  type ExitStatus,
  type GroupSignal,
  type Spawner,
  SpawnError,
  type SpawnSpec,
} from "../../lib/process/spawner.ts";

/** A clock whose time moves only by {@link advance}. */
export class FakeClock implements Clock {
  #now: number;
  #next = 1;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 1_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerId {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return id as unknown as TimerId;
  }

  clearTimeout(id: TimerId): void {
    this.#timers.delete(id as unknown as number);
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing each timer that falls due, in order. */
  advance(ms: number): void {
    const until = this.#now + ms;
    while (true) {
      const due = [...this.#timers.entries()].filter(([, t]) => t.at <= until)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.#now = Math.max(this.#now, due[1].at);
      due[1].fn();
    }
    this.#now = until;
  }
}

/** How a fake process behaves; passed as the command's only argument, as JSON. */
export interface Behaviour {
  /** Printed on stdout at start. */
  readonly say?: string;
  /** Printed on stderr at start. */
  readonly complain?: string;
  /** Exit on its own at once with this code. */
  readonly exitCode?: number;
  /** Neither it nor its children die of SIGTERM. */
  readonly ignoreTerm?: boolean;
  /** Leaves a grandchild in its group that lives on after the leader's exit. */
  readonly leaveChild?: boolean;
}

/** The command a fake spawner runs for `b`. */
export function fakeCommand(b: Behaviour): { command: string; args: string[] } {
  return { command: "fake", args: [JSON.stringify(b)] };
}

class FakeProcess implements ChildProcess {
  readonly status: Promise<ExitStatus>;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  readonly #exit: (s: ExitStatus) => void;
  readonly #out: ReadableStreamDefaultController<Uint8Array>;
  readonly #err: ReadableStreamDefaultController<Uint8Array>;
  leaderAlive = true;
  grandchildAlive: boolean;

  constructor(readonly pid: number, readonly behaviour: Behaviour) {
    let exit!: (s: ExitStatus) => void;
    this.status = new Promise((r) => exit = r);
    this.#exit = exit;
    let out!: ReadableStreamDefaultController<Uint8Array>;
    let err!: ReadableStreamDefaultController<Uint8Array>;
    this.stdout = new ReadableStream({ start: (c) => void (out = c) });
    this.stderr = new ReadableStream({ start: (c) => void (err = c) });
    this.#out = out;
    this.#err = err;
    this.grandchildAlive = behaviour.leaveChild === true;
    const enc = new TextEncoder();
    if (behaviour.say) out.enqueue(enc.encode(`${behaviour.say}\n`));
    if (behaviour.complain) err.enqueue(enc.encode(`${behaviour.complain}\n`));
    if (behaviour.exitCode !== undefined) {
      queueMicrotask(() => this.end({ code: behaviour.exitCode!, signal: null }));
    }
  }

  get groupAlive(): boolean {
    return this.leaderAlive || this.grandchildAlive;
  }

  /** The leader ends; the pipes close once nobody in the group holds them. */
  end(status: ExitStatus) {
    if (!this.leaderAlive) return;
    this.leaderAlive = false;
    this.#exit(status);
    this.#closePipesIfEmpty();
  }

  signal(signal: GroupSignal) {
    if (signal === "SIGTERM" && this.behaviour.ignoreTerm) return;
    this.grandchildAlive = false;
    this.end({ code: null, signal });
    this.#closePipesIfEmpty();
  }

  #closePipesIfEmpty() {
    if (this.groupAlive) return;
    for (const c of [this.#out, this.#err]) {
      try {
        c.close();
      } catch {
        // Already closed.
      }
    }
  }
}

/** A spawner of fake processes, recording every signal it was asked to send. */
export class FakeSpawner implements Spawner {
  readonly processes: FakeProcess[] = [];
  readonly signals: { pgid: number; signal: GroupSignal }[] = [];
  #nextPid = 5000;

  spawn(spec: SpawnSpec): ChildProcess {
    if (spec.command !== "fake") {
      throw new SpawnError(`command "${spec.command}" not found on PATH`);
    }
    const p = new FakeProcess(this.#nextPid++, JSON.parse(spec.args[0] ?? "{}"));
    this.processes.push(p);
    return p;
  }

  signalGroup(pgid: number, signal: GroupSignal): boolean {
    this.signals.push({ pgid, signal });
    const p = this.#find(pgid);
    if (!p?.groupAlive) return false;
    p.signal(signal);
    return true;
  }

  groupAlive(pgid: number): Promise<boolean> {
    return Promise.resolve(this.#find(pgid)?.groupAlive ?? false);
  }

  /** Makes the leader of `pid` die as if killed behind the supervisor's back. */
  crash(pid: number): void {
    this.#find(pid)?.end({ code: null, signal: "SIGKILL" });
  }

  #find(pid: number) {
    return this.processes.find((p) => p.pid === pid);
  }
}
