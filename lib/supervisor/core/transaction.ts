/**
 * How state changes inside one step of the machine: every new state, its
 * transition record and the effects that go with it are made here, so the
 * event handlers in machine.ts read as decisions.
 */
import { backoffDelay } from "./backoff.ts";
import {
  type AfterStop,
  describeExit,
  type Effect,
  type ExitInfo,
  type FailureCause,
  HISTORY,
  type MachineConfig,
  type Model,
  READY_PROBE_FIRST_MS,
  type Reply,
  type RequestKind,
  type State,
  type StateKind,
  UNKNOWN_HEALTH,
  unreachable,
} from "./model.ts";
import { answerOf } from "./answers.ts";
import { admitRestart } from "./retry_window.ts";

/** How a run is being stopped: what for, and what is known of its end. */
export interface StopPlan {
  /** When the run began (the policy's reset-after counts from it). */
  readonly ranSince: number;
  readonly then: AfterStop;
  readonly reason: string;
  readonly patch?: Partial<Model>;
  /** The leader's exit, when it already happened. */
  readonly exit?: ExitInfo;
  /** Why the run ends as a failure although the process did not fail (not ready, unhealthy). */
  readonly failure?: string;
}

const live = (k: StateKind) => k === "starting" || k === "running";

/** One step's changes: the model as it goes, and the effects in order. */
export class Tx {
  readonly effects: Effect[] = [];

  constructor(public model: Model, readonly now: number, readonly config: MachineConfig) {}

  get state(): State {
    return this.model.state;
  }

  /**
   * Moves to `state`; a transition is recorded unless the kind stays and
   * `reason` is empty. Leaving a live run ends its probes.
   */
  go(state: State, reason: string, patch: Partial<Model> = {}) {
    const from = this.model.state.kind;
    const transitions = state.kind === from && reason === ""
      ? this.model.transitions
      : [...this.model.transitions, { from, to: state.kind, at: this.now, reason }].slice(-HISTORY);
    this.model = { ...this.model, ...patch, state, transitions };
    if (!live(state.kind) && state.kind !== "stopping" && this.model.health.status !== "unknown") {
      // No process to probe: the last probe stays known, but not as the server's health.
      const health = { ...this.model.health, status: "unknown", failures: 0 } as const;
      this.model = { ...this.model, health };
    }
    if (this.config.health && live(from) && !live(state.kind)) {
      this.effects.push(
        { kind: "cancel_timer", timer: "probe" },
        { kind: "cancel_timer", timer: "ready" },
      );
    }
  }

  /** Waiting for the dependencies, with no process: `deps_up` spawns it. */
  block(reason: string, patch: Partial<Model> = {}) {
    this.go({ kind: "blocked" }, reason, patch);
  }

  /** Answers request `request` (if the event carried one) now. */
  reply(request: number | undefined, reply: Reply) {
    if (request !== undefined) this.effects.push({ kind: "reply", request, reply });
  }

  /** Keeps request `request` (if the event carried one) until {@link settle} can answer it. */
  await(request: number | undefined, kind: RequestKind) {
    if (request === undefined) return;
    this.model = { ...this.model, pending: [...this.model.pending, { id: request, kind }] };
  }

  /** Answers each pending request the model now says how to answer (answers.ts). */
  settle() {
    if (this.model.pending.length === 0) return;
    const pending = this.model.pending.filter((p) => {
      const reply = answerOf(p.kind, this.model);
      if (reply === undefined) return true;
      this.effects.push({ kind: "reply", request: p.id, reply });
      return false;
    });
    this.model = { ...this.model, pending };
  }

  /** A spawn: `starting` with no pid yet; `auto` when the restart policy asks for it. */
  spawn(reason: string, patch: Partial<Model> = {}, auto = false) {
    const state = { kind: "starting", pid: null, since: this.now } as const;
    this.go(auto ? { ...state, auto } : state, reason, patch);
    this.effects.push({ kind: "spawn" });
  }

  /**
   * The process exists: `running` at once without health checks; with them,
   * `starting` until a probe passes, probed soon and often, and failed if the
   * start period ends first.
   */
  spawned(pid: number) {
    const health = this.config.health;
    if (!health) {
      this.go({ kind: "running", pid, since: this.now }, `spawned pid ${pid}`);
      return;
    }
    this.go(
      { kind: "starting", pid, since: this.now },
      `spawned pid ${pid}; waiting until it answers`,
      { health: UNKNOWN_HEALTH },
    );
    this.effects.push(
      { kind: "set_timer", timer: "probe", at: this.now + READY_PROBE_FIRST_MS },
      { kind: "set_timer", timer: "ready", at: this.now + health.startPeriodMs },
    );
  }

  fail(reason: string, cause: FailureCause, patch: Partial<Model> = {}) {
    this.go({ kind: "failed", reason, cause }, reason, { ...patch, lastError: reason });
  }

  /**
   * SIGTERM to the group, SIGKILL at the end of the grace (a `kill` timer); a
   * stdio server's stdin is closed first, and SIGTERM waits a moment for it.
   */
  terminate(pid: number, plan: StopPlan) {
    const stdin = this.config.stdinFirstMs;
    const deadline = this.now + (stdin ?? this.config.graceMs);
    this.go(
      {
        kind: "stopping",
        pid,
        since: this.now,
        ranSince: plan.ranSince,
        phase: stdin === undefined ? "term" : "stdin",
        deadline,
        then: plan.then,
        exit: plan.exit ?? null,
        failure: plan.failure ?? null,
      },
      plan.reason,
      plan.patch,
    );
    this.effects.push(
      stdin === undefined
        ? { kind: "signal_group", pgid: pid, signal: "SIGTERM" }
        : { kind: "close_stdin" },
      { kind: "set_timer", timer: "kill", at: deadline },
    );
  }

  /** The group is gone: do what the stop was for. */
  finishStop(s: Extract<State, { kind: "stopping" }>, exit: ExitInfo) {
    this.effects.push({ kind: "cancel_timer", timer: "kill" });
    const how = describeExit(exit);
    const patch = { lastExit: exit };
    switch (s.then) {
      case "stop":
        this.go({ kind: "stopped" }, how, patch);
        break;
      case "start":
        this.spawn(`${how}; starting again`, patch);
        break;
      case "block":
        this.block(`${how}; waiting for its dependencies`, patch);
        break;
      case "exit":
        this.go({ kind: "stopped" }, how, patch);
        this.exit();
        break;
      case "policy":
        this.model = { ...this.model, ...patch };
        this.applyPolicy(exit, { ranSince: s.ranSince, failure: s.failure });
        break;
      case "fail":
        this.fail(s.failure ?? how, "crash_loop", patch);
        break;
      default:
        unreachable(s.then);
    }
  }

  /** The supervisor is done: it closes, and starts nothing again. */
  exit() {
    this.model = { ...this.model, closed: true };
    this.effects.push({ kind: "exit" });
  }

  /**
   * After a run ended on its own (or was ended as a failure): stopped,
   * restarting or failed. A `failure` counts as a failed exit whatever the code.
   */
  applyPolicy(exit: ExitInfo, run: { ranSince: number; failure?: string | null }) {
    const how = run.failure ?? describeExit(exit);
    const { restart } = this.config;
    const clean = !run.failure && exit.code === 0 && exit.signal === null;
    if (restart.policy === "never" || (restart.policy === "on-failure" && clean)) {
      this.go({ kind: "stopped" }, `${how} (policy ${restart.policy})`, {
        ...(run.failure ? { lastError: run.failure } : {}),
      });
      return;
    }
    const attempt = exit.at - run.ranSince >= restart.resetAfterMs ? 0 : this.model.attempt;
    const admitted = admitRestart(this.model.window, {
      now: this.now,
      max: restart.maxRetriesPerMinute,
    });
    if (!admitted.allowed) {
      const reason = `${how}; ${admitted.window.length} restarts within 60s ` +
        `(max-retries-per-minute ${restart.maxRetriesPerMinute})`;
      this.fail(reason, "crash_loop", { window: admitted.window, attempt });
      return;
    }
    const delay = backoffDelay(attempt, {
      initialMs: restart.backoffInitialMs,
      maxMs: restart.backoffMaxMs,
    });
    const until = this.now + delay;
    this.go(
      { kind: "restarting", attempt: attempt + 1, until },
      `${how}; restarting in ${delay}ms`,
      {
        window: admitted.window,
        attempt: attempt + 1,
        restartCount: this.model.restartCount + 1,
        lastError: how,
      },
    );
    this.effects.push({ kind: "set_timer", timer: "backoff", at: until });
  }
}
