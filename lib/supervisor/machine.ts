/**
 * One server's life as a pure state machine: `(model, event, now) → { model,
 * effects }`. No I/O, no clock, no timers: time comes in as `now`, and what
 * must happen goes out as effects the actor carries out. This is the only
 * place a server's state changes.
 *
 * Stopping belongs to the machine, as in s6-supervise and systemd: SIGTERM to
 * the group and a `kill` timer at the end of the grace; SIGKILL when it fires;
 * and the next state is chosen only once the whole group is gone, so no
 * grandchild of one run overlaps the next (docs/ARCHITECTURE.md).
 */
import { backoffDelay } from "./backoff.ts";
import {
  type AfterStop,
  describeExit,
  type Effect,
  type Event,
  type ExitInfo,
  type FailureCause,
  HISTORY,
  KILL_WAIT_MS,
  type MachineConfig,
  type Model,
  type State,
  type Step,
  unreachable,
} from "./model.ts";
import { admitRestart } from "./retry_window.ts";

/** Applies one event at time `now`. */
export function step(model: Model, event: Event, now: number, config: MachineConfig): Step {
  const tx = new Tx(model, now, config);
  switch (event.kind) {
    case "start":
    case "restart":
      onStart(tx, event.kind);
      break;
    case "stop":
      onStop(tx);
      break;
    case "shutdown":
      onShutdown(tx);
      break;
    case "spawned":
      onSpawned(tx, event.pid);
      break;
    case "spawn_failed": {
      const s = tx.state;
      if (s.kind === "starting" && s.pid === null) tx.fail(event.reason, event.cause);
      break;
    }
    case "exited":
      onExited(tx, event);
      break;
    case "group_gone": {
      const s = tx.state;
      if (s.kind === "stopping" && s.pid === event.pid && s.exit) tx.finishStop(s, s.exit);
      break;
    }
    case "timer":
      if (event.timer === "backoff") onBackoffTimer(tx);
      else onKillTimer(tx);
      break;
    default:
      unreachable(event);
  }
  return { model: tx.model, effects: tx.effects };
}

/** A manual start or restart forgets earlier crashes. */
const FRESH: Partial<Model> = { window: [], attempt: 0, lastError: null };

function onStart(tx: Tx, kind: "start" | "restart") {
  const s = tx.state;
  const why = `${kind} requested`;
  switch (s.kind) {
    case "stopped":
    case "failed":
      tx.spawn(why, FRESH);
      break;
    case "restarting":
      tx.effects.push({ kind: "cancel_timer", timer: "backoff" });
      tx.spawn(why, FRESH);
      break;
    case "starting":
    case "running":
      // A start of a live server changes nothing; a restart stops it, then starts it.
      if (kind === "restart" && s.pid !== null) tx.terminate(s.pid, s.since, "start", why, FRESH);
      break;
    case "stopping":
      if (s.then !== "exit") tx.go({ ...s, then: "start" }, "", FRESH);
      break;
    default:
      unreachable(s);
  }
}

function onStop(tx: Tx) {
  const s = tx.state;
  switch (s.kind) {
    case "stopped":
      break;
    case "failed":
      tx.go({ kind: "stopped" }, "stop requested");
      break;
    case "restarting":
      tx.effects.push({ kind: "cancel_timer", timer: "backoff" });
      tx.go({ kind: "stopped" }, "stop requested");
      break;
    case "starting":
    case "running":
      if (s.pid === null) tx.go({ kind: "stopped" }, "stop requested");
      else tx.terminate(s.pid, s.since, "stop", "stop requested");
      break;
    case "stopping":
      if (s.then === "start" || s.then === "policy") tx.go({ ...s, then: "stop" }, "");
      break;
    default:
      unreachable(s);
  }
}

function onShutdown(tx: Tx) {
  const s = tx.state;
  switch (s.kind) {
    case "stopped":
    case "failed":
      tx.effects.push({ kind: "exit" });
      break;
    case "restarting":
      tx.effects.push({ kind: "cancel_timer", timer: "backoff" });
      tx.go({ kind: "stopped" }, "daemon shutdown");
      tx.effects.push({ kind: "exit" });
      break;
    case "starting":
    case "running":
      if (s.pid !== null) {
        tx.terminate(s.pid, s.since, "exit", "daemon shutdown");
        break;
      }
      tx.go({ kind: "stopped" }, "daemon shutdown");
      tx.effects.push({ kind: "exit" });
      break;
    case "stopping":
      tx.go({ ...s, then: "exit" }, "");
      break;
    default:
      unreachable(s);
  }
}

function onSpawned(tx: Tx, pid: number) {
  const s = tx.state;
  if (s.kind === "starting" && s.pid === null) {
    tx.go({ kind: "running", pid, since: tx.now }, `spawned pid ${pid}`);
  } else {
    // Nobody asked for this process any more: it must not live unsupervised.
    tx.effects.push({ kind: "signal_group", pgid: pid, signal: "SIGKILL" });
  }
}

function onExited(tx: Tx, ev: Extract<Event, { kind: "exited" }>) {
  const s = tx.state;
  const exit: ExitInfo = { code: ev.code, signal: ev.signal, at: tx.now };
  if (s.kind === "stopping" && s.pid === ev.pid) {
    if (ev.groupAlive) tx.go({ ...s, exit }, "", { lastExit: exit });
    else tx.finishStop(s, exit);
    return;
  }
  if ((s.kind !== "running" && s.kind !== "starting") || s.pid !== ev.pid) return;
  if (!ev.groupAlive) {
    tx.model = { ...tx.model, lastExit: exit };
    tx.applyPolicy(exit, s.since);
    return;
  }
  // What the leader left in its group is stopped before anything else happens.
  tx.terminate(
    s.pid,
    s.since,
    "policy",
    `${describeExit(exit)}; stopping what it left in its group`,
    { lastExit: exit },
    exit,
  );
}

function onBackoffTimer(tx: Tx) {
  const s = tx.state;
  if (s.kind === "restarting" && tx.now >= s.until) tx.spawn("backoff elapsed");
}

function onKillTimer(tx: Tx) {
  const s = tx.state;
  if (s.kind !== "stopping") return;
  if (tx.now < s.deadline) {
    tx.effects.push({ kind: "set_timer", timer: "kill", at: s.deadline });
    return;
  }
  if (s.phase === "term") {
    const deadline = tx.now + KILL_WAIT_MS;
    tx.go({ ...s, phase: "kill", deadline }, "");
    tx.effects.push(
      { kind: "signal_group", pgid: s.pid, signal: "SIGKILL" },
      { kind: "set_timer", timer: "kill", at: deadline },
    );
    return;
  }
  // SIGKILL did not empty the group (uninterruptible sleep): supervision must go on.
  const stuck = `process group ${s.pid} did not exit after SIGKILL`;
  tx.model = { ...tx.model, lastError: stuck };
  tx.finishStop(s, s.exit ?? { code: null, signal: "SIGKILL", at: tx.now });
}

/** One step's changes: the model as it goes, and the effects in order. */
class Tx {
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
