/**
 * One server's life as a pure state machine: `(model, event, now) → { model,
 * effects }`. No I/O, no clock, no timers: time comes in as `now`, and what
 * must happen goes out as effects the actor carries out. This is the only
 * place a server's state changes, and the only place its requests are
 * answered (a `reply` effect), so every state a server shows — `blocked`
 * included — is decided here.
 *
 * The whole machine is one table, {@link ACTIONS}: what each event does in
 * each state, as s6-supervise keeps its supervisor (`actions[state][event]`).
 * A cell is a named action, or {@link ignore}; the machine's tests walk
 * every cell.
 *
 * Stopping belongs to the machine, as in s6-supervise and systemd: SIGTERM to
 * the group and a `kill` timer at the end of the grace; SIGKILL when it fires;
 * and the next state is chosen only once the whole group is gone, so no
 * grandchild of one run overlaps the next (docs/ARCHITECTURE.md).
 */
import {
  describeExit,
  type Event,
  type ExitInfo,
  KILL_WAIT_MS,
  type MachineConfig,
  type Model,
  type State,
  type StateKind,
  type Step,
  type TimerName,
} from "./model.ts";
import { onProbed, onProbeTimer, onReadyTimer } from "./readiness.ts";
import { admitRestart } from "./retry_window.ts";
import { Tx } from "./transaction.ts";

/** An event's key in the table: its kind, and a timer's name for a timer. */
export type EventKey = Exclude<Event["kind"], "timer"> | `${TimerName}_timer`;

/** The table key of `event`. */
export function eventKey(event: Event): EventKey {
  return event.kind === "timer" ? `${event.timer}_timer` : event.kind;
}

/** The event of key `K`. */
export type EventOf<K extends EventKey> = K extends `${string}_timer`
  ? Extract<Event, { kind: "timer" }>
  : Extract<Event, { kind: K }>;

/** The state of kind `S`. */
export type StateOf<S extends StateKind> = Extract<State, { kind: S }>;

/** What event `K` does in state `S`. */
export type Action<S extends StateKind, K extends EventKey> = (
  tx: Tx,
  state: StateOf<S>,
  event: EventOf<K>,
) => void;

/** The table's type: an action for every state and every event, none forgotten. */
export type Table = { readonly [S in StateKind]: { readonly [K in EventKey]: Action<S, K> } };

/** Applies one event at time `now`; every request the new model can answer is answered. */
export function step(model: Model, event: Event, now: number, config: MachineConfig): Step {
  const tx = new Tx(model, now, config);
  const row = ACTIONS[model.state.kind] as Record<EventKey, Action<StateKind, EventKey>>;
  row[eventKey(event)](tx, model.state, event as EventOf<EventKey>);
  tx.settle();
  return { model: tx.model, effects: tx.effects };
}

// ---- The actions. Each reads as the decision it is. ----

/** Nothing happens: the event means nothing in this state (a stale timer, a late probe). */
function ignore(): void {}

/** A manual start or restart forgets earlier crashes. */
const FRESH: Partial<Model> = { window: [], attempt: 0, lastError: null };

/** After its shutdown a supervisor starts nothing again: the daemon is going away. */
function refuseClosed(tx: Tx, request: number | undefined) {
  tx.reply(request, {
    ok: false,
    error: { failure: "Internal", message: "its supervisor has shut down" },
  });
}

type Starting = Extract<Event, { kind: "start" | "restart" }>;

/** From no process: spawn, or wait for the dependencies. */
function startFresh(tx: Tx, _s: State, e: Starting) {
  if (tx.model.closed) return refuseClosed(tx, e.request);
  const why = `${e.kind} requested`;
  if (e.depsUp === false) tx.block(`${why}; waiting for its dependencies`, FRESH);
  else tx.spawn(why, FRESH);
  tx.await(e.request, e.kind);
}

/** A start or restart while waiting out a backoff: at once. */
function startNow(tx: Tx, s: State, e: Starting) {
  tx.effects.push({ kind: "cancel_timer", timer: "backoff" });
  startFresh(tx, s, e);
}

/** A start or restart of a blocked server: spawns once its dependencies are up; else it waits on. */
function startBlocked(tx: Tx, _s: StateOf<"blocked">, e: Starting) {
  if (e.depsUp !== false) tx.spawn(`${e.kind} requested`, FRESH);
  tx.await(e.request, e.kind);
}

/** A start of a live server changes nothing; a restart stops it, then starts it (or waits). */
function startLive(tx: Tx, s: StateOf<"starting" | "running">, e: Starting) {
  if (e.kind === "start") {
    tx.reply(e.request, {
      ok: true,
      result: s.kind === "running" ? "already_running" : "starting",
    });
    return;
  }
  if (s.pid === null) return tx.await(e.request, e.kind); // Mid-spawn: answered once it exists.
  tx.terminate(s.pid, {
    ranSince: s.since,
    then: e.depsUp === false ? "block" : "start",
    reason: "restart requested",
    patch: FRESH,
  });
  tx.await(e.request, e.kind);
}

/** A start or restart during a stop: what comes after the stop changes, unless it is a shutdown. */
function startAfterStop(tx: Tx, s: StateOf<"stopping">, e: Starting) {
  if (s.then === "exit") return refuseClosed(tx, e.request);
  tx.go({ ...s, then: e.depsUp === false ? "block" : "start" }, "", FRESH);
  tx.await(e.request, e.kind);
}

function stopStopped(tx: Tx, _s: State, e: Extract<Event, { kind: "stop" }>) {
  tx.reply(e.request, { ok: true, result: "not_running" });
}

/** Nothing runs: stopped at once. */
function stopIdle(tx: Tx, s: State, e: Extract<Event, { kind: "stop" }>) {
  if (s.kind === "restarting") tx.effects.push({ kind: "cancel_timer", timer: "backoff" });
  tx.go({ kind: "stopped" }, "stop requested");
  tx.reply(e.request, { ok: true, result: "stopped" });
}

function stopLive(tx: Tx, s: StateOf<"starting" | "running">, e: Extract<Event, { kind: "stop" }>) {
  if (s.pid === null) tx.go({ kind: "stopped" }, "stop requested");
  else tx.terminate(s.pid, { ranSince: s.since, then: "stop", reason: "stop requested" });
  tx.await(e.request, "stop");
}

function stopStopping(tx: Tx, s: StateOf<"stopping">, e: Extract<Event, { kind: "stop" }>) {
  if (s.then !== "stop" && s.then !== "exit") tx.go({ ...s, then: "stop" }, "");
  tx.await(e.request, "stop");
}

/** The daemon is going: the supervisor closes once nothing runs. */
function shutdownIdle(tx: Tx, s: State, e: Extract<Event, { kind: "shutdown" }>) {
  if (s.kind === "restarting") tx.effects.push({ kind: "cancel_timer", timer: "backoff" });
  if (s.kind === "restarting" || s.kind === "blocked") {
    tx.go({ kind: "stopped" }, "daemon shutdown");
  }
  tx.await(e.request, "shutdown");
  if (!tx.model.closed) tx.exit();
}

function shutdownLive(
  tx: Tx,
  s: StateOf<"starting" | "running">,
  e: Extract<Event, { kind: "shutdown" }>,
) {
  tx.await(e.request, "shutdown");
  if (s.pid !== null) {
    tx.terminate(s.pid, { ranSince: s.since, then: "exit", reason: "daemon shutdown" });
    return;
  }
  tx.go({ kind: "stopped" }, "daemon shutdown");
  tx.exit();
}

function shutdownStopping(tx: Tx, s: StateOf<"stopping">, e: Extract<Event, { kind: "shutdown" }>) {
  tx.await(e.request, "shutdown");
  tx.go({ ...s, then: "exit" }, "");
}

function unblock(tx: Tx) {
  tx.spawn("its dependencies are up");
}

function spawned(tx: Tx, s: State, e: Extract<Event, { kind: "spawned" }>) {
  if (s.kind === "starting" && s.pid === null) return tx.spawned(e.pid);
  // Nobody asked for this process any more: it must not live unsupervised.
  tx.effects.push({ kind: "signal_group", pgid: e.pid, signal: "SIGKILL" });
}

function spawnFailed(tx: Tx, s: StateOf<"starting">, e: Extract<Event, { kind: "spawn_failed" }>) {
  if (s.pid !== null) return;
  if (e.cause === "port_conflict" && s.auto) {
    // A port taken during an automatic restart waits out a backoff, like any failed start;
    // a start somebody asked for answers PortConflict at once.
    const exit = { code: null, signal: null, at: tx.now };
    tx.applyPolicy(exit, { ranSince: tx.now, failure: e.reason });
  } else tx.fail(e.reason, e.cause);
}

/** The leader of the live run exited: the policy decides, once its group is gone. */
function exitedLive(
  tx: Tx,
  s: StateOf<"starting" | "running">,
  e: Extract<Event, { kind: "exited" }>,
) {
  if (s.pid !== e.pid) return;
  const exit: ExitInfo = { code: e.code, signal: e.signal, at: tx.now };
  if (!e.groupAlive) {
    tx.model = { ...tx.model, lastExit: exit };
    tx.applyPolicy(exit, { ranSince: s.since });
    return;
  }
  // What the leader left in its group is stopped before anything else happens.
  tx.terminate(s.pid, {
    ranSince: s.since,
    then: "policy",
    reason: `${describeExit(exit)}; stopping what it left in its group`,
    patch: { lastExit: exit },
    exit,
  });
}

function exitedStopping(tx: Tx, s: StateOf<"stopping">, e: Extract<Event, { kind: "exited" }>) {
  if (s.pid !== e.pid) return;
  const exit: ExitInfo = { code: e.code, signal: e.signal, at: tx.now };
  if (e.groupAlive) tx.go({ ...s, exit }, "", { lastExit: exit });
  else tx.finishStop(s, exit);
}

function groupGone(tx: Tx, s: StateOf<"stopping">, e: Extract<Event, { kind: "group_gone" }>) {
  if (s.pid === e.pid && s.exit) tx.finishStop(s, s.exit);
}

function backoffOver(tx: Tx, s: StateOf<"restarting">) {
  // A timer that fires early (the clock was stepped back) is set again, never dropped.
  if (tx.now < s.until) tx.effects.push({ kind: "set_timer", timer: "backoff", at: s.until });
  else tx.spawn("backoff elapsed", {}, true);
}

function killTimer(tx: Tx, s: StateOf<"stopping">) {
  if (tx.now < s.deadline) {
    tx.effects.push({ kind: "set_timer", timer: "kill", at: s.deadline });
    return;
  }
  if (s.phase === "stdin") {
    // Its stdin closed a moment ago and it is still there: SIGTERM, and the grace runs.
    const deadline = tx.now + tx.config.graceMs;
    tx.go({ ...s, phase: "term", deadline }, "");
    tx.effects.push(
      { kind: "signal_group", pgid: s.pid, signal: "SIGTERM" },
      { kind: "set_timer", timer: "kill", at: deadline },
    );
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

/** A fresh actor takes over a server whose last one died while it waited out a backoff. */
function resume(tx: Tx, _s: State, e: Extract<Event, { kind: "resume" }>) {
  // The backoff goes on where the dead actor left it, not cut short.
  tx.go(
    { kind: "restarting", attempt: 1, until: e.until },
    "supervisor replaced; restart goes ahead as planned",
    { restartCount: e.restartCount },
  );
  tx.effects.push({ kind: "set_timer", timer: "backoff", at: e.until });
}

function probed(tx: Tx, _s: State, e: Extract<Event, { kind: "probed" }>) {
  onProbed(tx, e.pid, e.result);
}

/**
 * A session's child of a running per-session server exited on its own: it
 * counts in the retry window, and is started again for its session — or,
 * past `max-retries-per-minute`, the whole server is stopped and failed.
 */
function sessionExited(
  tx: Tx,
  s: StateOf<"running">,
  e: Extract<Event, { kind: "session_exited" }>,
) {
  if (s.pid !== e.pid) return;
  const exit: ExitInfo = { code: e.code, signal: e.signal, at: tx.now };
  const what = `the process of session ${e.session.slice(0, 8)} ${describeExit(exit)}`;
  const max = tx.config.restart.maxRetriesPerMinute;
  const admitted = admitRestart(tx.model.window, { now: tx.now, max });
  if (admitted.allowed) {
    tx.model = {
      ...tx.model,
      window: admitted.window,
      restartCount: tx.model.restartCount + 1,
      lastExit: exit,
      lastError: `${what}; started again`,
    };
    tx.effects.push({ kind: "restart_session", session: e.session });
    return;
  }
  const why = `${what}; ${admitted.window.length} restarts within 60s ` +
    `(max-retries-per-minute ${max})`;
  tx.terminate(s.pid, {
    ranSince: s.since,
    then: "fail",
    reason: why,
    failure: why,
    patch: { window: admitted.window, lastExit: exit },
  });
}

/**
 * What each event does in each state. Rows are states, columns events; a
 * state's row lists every event, so none can be forgotten.
 */
export const ACTIONS: Table = {
  stopped: {
    start: startFresh,
    restart: startFresh,
    stop: stopStopped,
    shutdown: shutdownIdle,
    deps_up: ignore,
    spawned,
    spawn_failed: ignore,
    exited: ignore,
    group_gone: ignore,
    backoff_timer: ignore,
    kill_timer: ignore,
    probe_timer: ignore,
    ready_timer: ignore,
    probed: ignore,
    resume,
    session_exited: ignore,
  },
  blocked: {
    start: startBlocked,
    restart: startBlocked,
    stop: stopIdle,
    shutdown: shutdownIdle,
    deps_up: unblock,
    spawned,
    spawn_failed: ignore,
    exited: ignore,
    group_gone: ignore,
    backoff_timer: ignore,
    kill_timer: ignore,
    probe_timer: ignore,
    ready_timer: ignore,
    probed: ignore,
    resume: ignore,
    session_exited: ignore,
  },
  starting: {
    start: startLive,
    restart: startLive,
    stop: stopLive,
    shutdown: shutdownLive,
    deps_up: ignore,
    spawned,
    spawn_failed: spawnFailed,
    exited: exitedLive,
    group_gone: ignore,
    backoff_timer: ignore,
    kill_timer: ignore,
    probe_timer: onProbeTimer,
    ready_timer: onReadyTimer,
    probed,
    resume: ignore,
    session_exited: ignore,
  },
  running: {
    start: startLive,
    restart: startLive,
    stop: stopLive,
    shutdown: shutdownLive,
    deps_up: ignore,
    spawned,
    spawn_failed: ignore,
    exited: exitedLive,
    group_gone: ignore,
    backoff_timer: ignore,
    kill_timer: ignore,
    probe_timer: onProbeTimer,
    ready_timer: ignore,
    probed,
    resume: ignore,
    session_exited: sessionExited,
  },
  stopping: {
    start: startAfterStop,
    restart: startAfterStop,
    stop: stopStopping,
    shutdown: shutdownStopping,
    deps_up: ignore,
    spawned,
    spawn_failed: ignore,
    exited: exitedStopping,
    group_gone: groupGone,
    backoff_timer: ignore,
    kill_timer: killTimer,
    probe_timer: ignore,
    ready_timer: ignore,
    probed: ignore,
    resume: ignore,
    session_exited: ignore,
  },
  restarting: {
    start: startNow,
    restart: startNow,
    stop: stopIdle,
    shutdown: shutdownIdle,
    deps_up: ignore,
    spawned,
    spawn_failed: ignore,
    exited: ignore,
    group_gone: ignore,
    backoff_timer: backoffOver,
    kill_timer: ignore,
    probe_timer: ignore,
    ready_timer: ignore,
    probed: ignore,
    resume: ignore,
    session_exited: ignore,
  },
  failed: {
    start: startFresh,
    restart: startFresh,
    stop: stopIdle,
    shutdown: shutdownIdle,
    deps_up: ignore,
    spawned,
    spawn_failed: ignore,
    exited: ignore,
    group_gone: ignore,
    backoff_timer: ignore,
    kill_timer: ignore,
    probe_timer: ignore,
    ready_timer: ignore,
    probed: ignore,
    resume: ignore,
    session_exited: ignore,
  },
};
