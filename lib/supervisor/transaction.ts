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
  type State,
  unreachable,
} from "./model.ts";
import { admitRestart } from "./retry_window.ts";

/** One step's changes: the model as it goes, and the effects in order. */
export class Tx {
  readonly effects: Effect[] = [];

  constructor(public model: Model, readonly now: number, readonly config: MachineConfig) {}

  get state(): State {
    return this.model.state;
  }

  /** Moves to `state`; a transition is recorded unless the kind stays and `reason` is empty. */
  go(state: State, reason: string, patch: Partial<Model> = {}) {
    const from = this.model.state.kind;
    const transitions = state.kind === from && reason === ""
      ? this.model.transitions
      : [...this.model.transitions, { from, to: state.kind, at: this.now, reason }].slice(-HISTORY);
    this.model = { ...this.model, ...patch, state, transitions };
  }

  spawn(reason: string, patch: Partial<Model> = {}) {
    this.go({ kind: "starting", pid: null, since: this.now }, reason, patch);
    this.effects.push({ kind: "spawn" });
  }

  fail(reason: string, cause: FailureCause, patch: Partial<Model> = {}) {
    this.go({ kind: "failed", reason, cause }, reason, { ...patch, lastError: reason });
  }

  /** SIGTERM to the group, SIGKILL at the end of the grace (a `kill` timer). */
  terminate(
    pid: number,
    ranSince: number,
    then: AfterStop,
    reason: string,
    patch: Partial<Model> = {},
    exit: ExitInfo | null = null,
  ) {
    const deadline = this.now + this.config.graceMs;
    this.go(
      { kind: "stopping", pid, since: this.now, ranSince, phase: "term", deadline, then, exit },
      reason,
      patch,
    );
    this.effects.push(
      { kind: "signal_group", pgid: pid, signal: "SIGTERM" },
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
      case "exit":
        this.go({ kind: "stopped" }, how, patch);
        this.effects.push({ kind: "exit" });
        break;
      case "policy":
        this.model = { ...this.model, ...patch };
        this.applyPolicy(exit, s.ranSince);
        break;
      default:
        unreachable(s.then);
    }
  }

  /** After a run that began at `ranSince` ended on its own: stopped, restarting or failed. */
  applyPolicy(exit: ExitInfo, ranSince: number) {
    const how = describeExit(exit);
    const { restart } = this.config;
    const clean = exit.code === 0 && exit.signal === null;
    if (restart.policy === "never" || (restart.policy === "on-failure" && clean)) {
      this.go({ kind: "stopped" }, `${how} (policy ${restart.policy})`);
      return;
    }
    const attempt = exit.at - ranSince >= restart.resetAfterMs ? 0 : this.model.attempt;
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
