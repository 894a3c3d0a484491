/**
 * The processes of a per-session stdio server (SPEC §11) as its machine sees
 * them: one run, one "process". A run begins with a first child, spawned to
 * check the command; once the bridge has checked it, it is stopped, and the
 * run goes on with no process until sessions need theirs. Every child is
 * spawned as the first was — same command, same environment, same run marks
 * (`XY_SERVER`, `XY_RUN`), each leading its own process group — so a reap
 * or a sweep finds each of them by the run's mark (docs/ARCHITECTURE.md,
 * "Crash recovery").
 *
 * To the machine, {@link SessionRuns} is the spawner: the run's pid is its
 * first child's, and
 * - its status settles when the first child exits before it was checked (the
 *   start failed), or, once the run is being stopped, when its last child
 *   has exited;
 * - a signal to its group goes to every child's group, and the group is
 *   alive while any child's is;
 * - its stderr is every child's, a line at a time, so two children's lines
 *   never mix.
 *
 * To the bridge (per_session.ts), it is the {@link ChildSource}: children
 * started for sessions, and each stopped on its own — SIGTERM a moment after
 * its stdin was closed, SIGKILL after the grace. A child whose leader exits
 * on its own has what it left in its group stopped the same way.
 */
import type { ChildSource, SessionChild } from "../bridge/per_session.ts";
import type { Clock } from "../clock.ts";
import { deadline, pollUntil } from "../deadline.ts";
import type {
  ChildProcess,
  ExitStatus,
  GroupSignal,
  Spawner,
  SpawnSpec,
} from "../process/spawner.ts";

/** How a per-session server's children are stopped. */
export interface SessionRunOptions {
  /** How long a child whose stdin was closed has before SIGTERM. */
  readonly stdinFirstMs: number;
  /** How long after SIGTERM before SIGKILL. */
  readonly graceMs: number;
  readonly clock: Clock;
}

/** How long a group is waited for after SIGKILL. */
const KILL_WAIT_MS = 2_000;
/** A line of stderr longer than this is passed on in pieces. */
const MAX_LINE_BYTES = 64 * 1024;

/** A per-session server's runs: the machine's spawner, and the bridge's source of children. */
export class SessionRuns implements Spawner, ChildSource {
  readonly #real: Spawner;
  readonly #opts: SessionRunOptions;
  /** Runs by pid, until the machine saw the last of them. */
  readonly #runs = new Map<number, Run>();
  #current: Run | null = null;

  constructor(real: Spawner, opts: SessionRunOptions) {
    this.#real = real;
    this.#opts = opts;
  }

  spawn(spec: SpawnSpec): ChildProcess {
    const run = new Run(this.#real, spec, this.#opts);
    this.#runs.set(run.pid, run);
    this.#current = run;
    return run.process;
  }

  signalGroup(pgid: number, signal: GroupSignal): boolean {
    return this.#runs.get(pgid)?.signal(signal) ?? false;
  }

  async groupAlive(pgid: number): Promise<boolean> {
    const run = this.#runs.get(pgid);
    if (!run) return false;
    const alive = await run.alive();
    if (!alive && run.over) this.#runs.delete(pgid);
    return alive;
  }

  /** The run of `pid` is being stopped (its children's stdin closed): it ends with its last child. */
  ending(pid: number): void {
    this.#runs.get(pid)?.end();
  }

  start(): SessionChild {
    const run = this.#current;
    if (!run || run.ending) throw new Error("the server is not running");
    return run.start();
  }

  stop(pid: number): void {
    for (const run of this.#runs.values()) if (run.stop(pid)) return;
  }
}

/** One child of a run. */
interface Member {
  readonly child: ChildProcess;
  /** Its leader exited. */
  exited: boolean;
  /** Its group is known to be empty. */
  gone: boolean;
}

/** One run: its first child, and every child started for a session since. */
class Run {
  readonly pid: number;
  readonly process: ChildProcess;
  readonly #real: Spawner;
  readonly #spec: SpawnSpec;
  readonly #opts: SessionRunOptions;
  readonly #members = new Map<number, Member>();
  /** The first child was checked and let go: its end is not the run's. */
  #released = false;
  #ending = false;
  #over = false;
  #last: ExitStatus = { code: 0, signal: null };
  #settle!: (s: ExitStatus) => void;
  #stderr!: ReadableStreamDefaultController<Uint8Array>;
  readonly #pumps = new Set<ReadableStreamDefaultReader<Uint8Array>>();

  constructor(real: Spawner, spec: SpawnSpec, opts: SessionRunOptions) {
    this.#real = real;
    this.#spec = spec;
    this.#opts = opts;
    const first = real.spawn(spec);
    this.pid = first.pid;
    const stderr = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.#stderr = c;
      },
      cancel: async () => {
        await Promise.all([...this.#pumps].map((r) => r.cancel().catch(() => {})));
      },
    });
    this.process = {
      pid: first.pid,
      status: new Promise<ExitStatus>((resolve) => this.#settle = resolve),
      stdout: first.stdout,
      stderr,
      ...(first.stdin ? { stdin: first.stdin } : {}),
    };
    this.#add(first);
  }

  /** Being stopped: no child starts any more. */
  get ending(): boolean {
    return this.#ending;
  }

  /** Its status settled. */
  get over(): boolean {
    return this.#over;
  }

  start(): SessionChild {
    const child = this.#real.spawn(this.#spec);
    this.#add(child);
    if (!child.stdin) throw new Error("a session's process was spawned without a stdin");
    return { pid: child.pid, stdin: child.stdin, stdout: child.stdout, exited: child.status };
  }

  /** Stops child `pid` (false when it is not of this run): its end is not the run's. */
  stop(pid: number): boolean {
    const m = this.#members.get(pid);
    if (!m) return false;
    if (pid === this.pid) this.#released = true;
    void this.#stopMember(pid, m, this.#opts.stdinFirstMs);
    return true;
  }

  end(): void {
    this.#ending = true;
    this.#finishIfDone();
  }

  signal(signal: GroupSignal): boolean {
    this.#ending = true;
    let any = false;
    for (const [pid, m] of this.#members) {
      if (!m.gone && this.#real.signalGroup(pid, signal)) any = true;
    }
    this.#finishIfDone();
    return any;
  }

  async alive(): Promise<boolean> {
    for (const [pid, m] of this.#members) {
      if (!m.exited) return true;
      if (m.gone) continue;
      if (await this.#real.groupAlive(pid).catch(() => false)) return true;
      this.#gone(pid, m);
    }
    return false;
  }

  #add(child: ChildProcess) {
    const m: Member = { child, exited: false, gone: false };
    this.#members.set(child.pid, m);
    void this.#pump(child.stderr);
    child.status.then((exit) => this.#exited(child.pid, m, exit));
  }

  #exited(pid: number, m: Member, exit: ExitStatus) {
    m.exited = true;
    this.#last = exit;
    if (pid === this.pid && !this.#released) {
      // The first child ended before it was checked: the run failed to start.
      this.#ending = true;
    } else if (!this.#ending) {
      // What it left in its group goes too, as for any server's run.
      void this.#stopMember(pid, m, 0);
    }
    this.#finishIfDone();
  }

  #finishIfDone() {
    if (this.#over || !this.#ending) return;
    for (const m of this.#members.values()) if (!m.exited) return;
    this.#over = true;
    this.#settle(this.#last);
    if (this.#pumps.size === 0) this.#closeStderr();
  }

  /** SIGTERM to `pid`'s group after `afterMs` if it is still there, SIGKILL after the grace. */
  async #stopMember(pid: number, m: Member, afterMs: number) {
    const empty = async () => !(await this.#real.groupAlive(pid).catch(() => false));
    const clock = this.#opts.clock;
    // A moment to go by itself once its stdin closed; what it leaves in its group goes too.
    if (afterMs > 0) await deadline(m.child.status, afterMs, { clock }).catch(() => {});
    if (m.gone) return;
    if (await empty()) return this.#gone(pid, m);
    this.#real.signalGroup(pid, "SIGTERM");
    if (await pollUntil(empty, { timeoutMs: this.#opts.graceMs, clock })) return this.#gone(pid, m);
    this.#real.signalGroup(pid, "SIGKILL");
    if (await pollUntil(empty, { timeoutMs: KILL_WAIT_MS, clock })) this.#gone(pid, m);
  }

  #gone(pid: number, m: Member) {
    m.gone = true;
    // Kept while the run is current, so its stop signals nothing twice; the first child always.
    if (m.exited && pid !== this.pid) this.#members.delete(pid);
  }

  /** Passes a child's stderr on, whole lines at a time. */
  async #pump(stream: ReadableStream<Uint8Array>) {
    const reader = stream.getReader();
    this.#pumps.add(reader);
    let carry: Uint8Array = new Uint8Array(0);
    const put = (bytes: Uint8Array) => {
      if (bytes.length === 0 || this.#closed) return;
      try {
        this.#stderr.enqueue(bytes);
      } catch {
        // Cancelled by its reader: nothing more is wanted.
      }
    };
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        const all = carry.length === 0 ? value : concat(carry, value);
        const nl = all.lastIndexOf(10);
        if (nl < 0) {
          carry = all;
          if (carry.length >= MAX_LINE_BYTES) {
            put(carry);
            carry = new Uint8Array(0);
          }
          continue;
        }
        put(all.subarray(0, nl + 1));
        carry = all.slice(nl + 1);
      }
    } catch {
      // The pipe broke: what was read is passed on.
    }
    if (carry.length > 0) put(concat(carry, new Uint8Array([10])));
    this.#pumps.delete(reader);
    if (this.#over && this.#pumps.size === 0) this.#closeStderr();
  }

  #closed = false;

  #closeStderr() {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#stderr.close();
    } catch {
      // Cancelled already.
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const all = new Uint8Array(a.length + b.length);
  all.set(a);
  all.set(b, a.length);
  return all;
}
