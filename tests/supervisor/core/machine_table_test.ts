/**
 * The machine's whole table, walked: every state × every event is a row
 * here, with the state it leads to (and the requests left pending) and the
 * effects it asks for, in order. A change to any cell of the table
 * (machine.ts, ACTIONS) shows here as a changed row. Each row was checked
 * against SPEC §4 and §6 by reading it, not copied from a run.
 */
import { assertEquals } from "../../assert.ts";
import { ACTIONS, type EventKey, step } from "../../../lib/supervisor/core/machine.ts";
import {
  type Effect,
  type Event,
  initialModel,
  type MachineConfig,
  type Model,
  type State,
  type StateKind,
} from "../../../lib/supervisor/core/model.ts";
import { DEFAULTS } from "../../../lib/config/schema.ts";

/** Health checks, a 500 ms grace, a 1 s backoff and a 1 s start period; every row at t = 1000. */
const CONFIG: MachineConfig = {
  restart: { ...DEFAULTS.restart, backoffInitialMs: 1000 },
  graceMs: 500,
  health: { intervalMs: 10_000, retries: 3, startPeriodMs: 1000 },
};
const NOW = 1000;

/** One state of each kind: a live run is pid 7, since 0; a stop's grace ended at 500. */
const STATES: { readonly [S in StateKind]: Extract<State, { kind: S }> } = {
  stopped: { kind: "stopped" },
  blocked: { kind: "blocked" },
  starting: { kind: "starting", pid: 7, since: 0 },
  running: { kind: "running", pid: 7, since: 0 },
  stopping: {
    kind: "stopping",
    pid: 7,
    since: 0,
    ranSince: 0,
    phase: "term",
    deadline: 500,
    then: "stop",
    exit: null,
    failure: null,
  },
  restarting: { kind: "restarting", attempt: 1, until: 1000 },
  failed: { kind: "failed", reason: "boom", cause: "spawn_failed" },
};

/** One event of each key; requests are number 1, and concern pid 7 (a spawn is pid 8). */
const EVENTS: { readonly [K in EventKey]: Event } = {
  start: { kind: "start", request: 1 },
  restart: { kind: "restart", request: 1 },
  stop: { kind: "stop", request: 1 },
  shutdown: { kind: "shutdown", request: 1 },
  deps_up: { kind: "deps_up" },
  spawned: { kind: "spawned", pid: 8 },
  spawn_failed: { kind: "spawn_failed", reason: "not found", cause: "spawn_failed" },
  exited: { kind: "exited", pid: 7, code: 1, signal: null, groupAlive: false },
  group_gone: { kind: "group_gone", pid: 7 },
  backoff_timer: { kind: "timer", timer: "backoff" },
  kill_timer: { kind: "timer", timer: "kill" },
  probe_timer: { kind: "timer", timer: "probe" },
  ready_timer: { kind: "timer", timer: "ready" },
  probed: { kind: "probed", pid: 7, result: { status: "healthy", message: "ok", latencyMs: 1 } },
  resume: { kind: "resume", restartCount: 2, until: 5000 },
  session_exited: { kind: "session_exited", pid: 7, session: "s1", code: 1, signal: null },
};

/** An effect, briefly: "spawn", "SIGTERM 7", "set kill@1500", "reply started", … */
function brief(e: Effect): string {
  switch (e.kind) {
    case "spawn":
    case "exit":
      return e.kind;
    case "signal_group":
      return `${e.signal} ${e.pgid}`;
    case "set_timer":
      return `set ${e.timer}@${e.at}`;
    case "cancel_timer":
      return `cancel ${e.timer}`;
    case "probe":
      return `probe ${e.pid}`;
    case "reply":
      return e.reply.ok ? `reply ${e.reply.result}` : `reply ${e.reply.error.failure}`;
    case "close_stdin":
      return "close stdin";
    case "restart_session":
      return `restart session ${e.session}`;
  }
}

/** The state after `event` in `state` ("stopping(start)" with what follows the stop, "+start" for a pending request), and the effects. */
function outcome(state: State, event: Event, model: Partial<Model> = {}): [string, string[]] {
  const r = step({ ...initialModel(), ...model, state }, event, NOW, CONFIG);
  const s = r.model.state;
  const pending = r.model.pending.map((p) => p.kind).join(",");
  const next = (s.kind === "stopping" ? `stopping(${s.then})` : s.kind) +
    (pending ? ` +${pending}` : "");
  return [next, r.effects.map(brief)];
}

/** [state, event, what follows, effects]: every cell of the table. */
const TABLE: readonly [StateKind, EventKey, string, string[]][] = [
  ["stopped", "start", "starting +start", ["spawn"]],
  ["stopped", "restart", "starting +restart", ["spawn"]],
  ["stopped", "stop", "stopped", ["reply not_running"]],
  ["stopped", "shutdown", "stopped", ["exit", "reply stopped"]],
  ["stopped", "deps_up", "stopped", []],
  ["stopped", "spawned", "stopped", ["SIGKILL 8"]],
  ["stopped", "spawn_failed", "stopped", []],
  ["stopped", "exited", "stopped", []],
  ["stopped", "group_gone", "stopped", []],
  ["stopped", "backoff_timer", "stopped", []],
  ["stopped", "kill_timer", "stopped", []],
  ["stopped", "probe_timer", "stopped", []],
  ["stopped", "ready_timer", "stopped", []],
  ["stopped", "probed", "stopped", []],
  ["stopped", "resume", "restarting", ["set backoff@5000"]],
  ["stopped", "session_exited", "stopped", []],
  ["blocked", "start", "starting +start", ["spawn"]],
  ["blocked", "restart", "starting +restart", ["spawn"]],
  ["blocked", "stop", "stopped", ["reply stopped"]],
  ["blocked", "shutdown", "stopped", ["exit", "reply stopped"]],
  ["blocked", "deps_up", "starting", ["spawn"]],
  ["blocked", "spawned", "blocked", ["SIGKILL 8"]],
  ["blocked", "spawn_failed", "blocked", []],
  ["blocked", "exited", "blocked", []],
  ["blocked", "group_gone", "blocked", []],
  ["blocked", "backoff_timer", "blocked", []],
  ["blocked", "kill_timer", "blocked", []],
  ["blocked", "probe_timer", "blocked", []],
  ["blocked", "ready_timer", "blocked", []],
  ["blocked", "probed", "blocked", []],
  ["blocked", "resume", "blocked", []],
  ["blocked", "session_exited", "blocked", []],
  ["starting", "start", "starting", ["reply starting"]],
  ["starting", "restart", "stopping(start) +restart", [
    "cancel probe",
    "cancel ready",
    "SIGTERM 7",
    "set kill@1500",
  ]],
  ["starting", "stop", "stopping(stop) +stop", [
    "cancel probe",
    "cancel ready",
    "SIGTERM 7",
    "set kill@1500",
  ]],
  ["starting", "shutdown", "stopping(exit) +shutdown", [
    "cancel probe",
    "cancel ready",
    "SIGTERM 7",
    "set kill@1500",
  ]],
  ["starting", "deps_up", "starting", []],
  ["starting", "spawned", "starting", ["SIGKILL 8"]],
  ["starting", "spawn_failed", "starting", []],
  ["starting", "exited", "restarting", ["cancel probe", "cancel ready", "set backoff@2000"]],
  ["starting", "group_gone", "starting", []],
  ["starting", "backoff_timer", "starting", []],
  ["starting", "kill_timer", "starting", []],
  ["starting", "probe_timer", "starting", ["probe 7"]],
  ["starting", "ready_timer", "stopping(policy)", [
    "cancel probe",
    "cancel ready",
    "SIGTERM 7",
    "set kill@1500",
  ]],
  ["starting", "probed", "running", ["cancel ready", "set probe@11000"]],
  ["starting", "resume", "starting", []],
  ["starting", "session_exited", "starting", []],
  ["running", "start", "running", ["reply already_running"]],
  ["running", "restart", "stopping(start) +restart", [
    "cancel probe",
    "cancel ready",
    "SIGTERM 7",
    "set kill@1500",
  ]],
  ["running", "stop", "stopping(stop) +stop", [
    "cancel probe",
    "cancel ready",
    "SIGTERM 7",
    "set kill@1500",
  ]],
  ["running", "shutdown", "stopping(exit) +shutdown", [
    "cancel probe",
    "cancel ready",
    "SIGTERM 7",
    "set kill@1500",
  ]],
  ["running", "deps_up", "running", []],
  ["running", "spawned", "running", ["SIGKILL 8"]],
  ["running", "spawn_failed", "running", []],
  ["running", "exited", "restarting", ["cancel probe", "cancel ready", "set backoff@2000"]],
  ["running", "group_gone", "running", []],
  ["running", "backoff_timer", "running", []],
  ["running", "kill_timer", "running", []],
  ["running", "probe_timer", "running", ["probe 7"]],
  ["running", "ready_timer", "running", []],
  ["running", "probed", "running", ["set probe@11000"]],
  ["running", "resume", "running", []],
  ["running", "session_exited", "running", ["restart session s1"]],
  ["stopping", "start", "stopping(start) +start", []],
  ["stopping", "restart", "stopping(start) +restart", []],
  ["stopping", "stop", "stopping(stop) +stop", []],
  ["stopping", "shutdown", "stopping(exit) +shutdown", []],
  ["stopping", "deps_up", "stopping(stop)", []],
  ["stopping", "spawned", "stopping(stop)", ["SIGKILL 8"]],
  ["stopping", "spawn_failed", "stopping(stop)", []],
  ["stopping", "exited", "stopped", ["cancel kill"]],
  ["stopping", "group_gone", "stopping(stop)", []],
  ["stopping", "backoff_timer", "stopping(stop)", []],
  ["stopping", "kill_timer", "stopping(stop)", ["SIGKILL 7", "set kill@3000"]],
  ["stopping", "probe_timer", "stopping(stop)", []],
  ["stopping", "ready_timer", "stopping(stop)", []],
  ["stopping", "probed", "stopping(stop)", []],
  ["stopping", "resume", "stopping(stop)", []],
  ["stopping", "session_exited", "stopping(stop)", []],
  ["restarting", "start", "starting +start", ["cancel backoff", "spawn"]],
  ["restarting", "restart", "starting +restart", ["cancel backoff", "spawn"]],
  ["restarting", "stop", "stopped", ["cancel backoff", "reply stopped"]],
  ["restarting", "shutdown", "stopped", ["cancel backoff", "exit", "reply stopped"]],
  ["restarting", "deps_up", "restarting", []],
  ["restarting", "spawned", "restarting", ["SIGKILL 8"]],
  ["restarting", "spawn_failed", "restarting", []],
  ["restarting", "exited", "restarting", []],
  ["restarting", "group_gone", "restarting", []],
  ["restarting", "backoff_timer", "starting", ["spawn"]],
  ["restarting", "kill_timer", "restarting", []],
  ["restarting", "probe_timer", "restarting", []],
  ["restarting", "ready_timer", "restarting", []],
  ["restarting", "probed", "restarting", []],
  ["restarting", "resume", "restarting", []],
  ["restarting", "session_exited", "restarting", []],
  ["failed", "start", "starting +start", ["spawn"]],
  ["failed", "restart", "starting +restart", ["spawn"]],
  ["failed", "stop", "stopped", ["reply stopped"]],
  ["failed", "shutdown", "failed", ["exit", "reply stopped"]],
  ["failed", "deps_up", "failed", []],
  ["failed", "spawned", "failed", ["SIGKILL 8"]],
  ["failed", "spawn_failed", "failed", []],
  ["failed", "exited", "failed", []],
  ["failed", "group_gone", "failed", []],
  ["failed", "backoff_timer", "failed", []],
  ["failed", "kill_timer", "failed", []],
  ["failed", "probe_timer", "failed", []],
  ["failed", "ready_timer", "failed", []],
  ["failed", "probed", "failed", []],
  ["failed", "resume", "failed", []],
  ["failed", "session_exited", "failed", []],
];

Deno.test("machine table: every state × event cell is a row, and each row holds", () => {
  const states = Object.keys(ACTIONS) as StateKind[];
  const keys = Object.keys(EVENTS) as EventKey[];
  // The rows are exactly the table's cells, once each.
  assertEquals(
    TABLE.map(([s, e]) => `${s}×${e}`),
    states.flatMap((s) => keys.map((e) => `${s}×${e}`)),
  );
  for (const [state, event, next, effects] of TABLE) {
    assertEquals(outcome(STATES[state], EVENTS[event]), [next, effects], `${state} × ${event}`);
  }
});

/** [state, event, what follows, effects] for a start or restart whose dependencies are down. */
const DEPS_DOWN: readonly [StateKind, "start" | "restart", string, string[]][] = [
  ["stopped", "start", "blocked", ["reply blocked"]],
  ["stopped", "restart", "blocked", ["reply blocked"]],
  ["blocked", "start", "blocked", ["reply blocked"]],
  ["blocked", "restart", "blocked", ["reply blocked"]],
  ["starting", "start", "starting", ["reply starting"]],
  ["starting", "restart", "stopping(block) +restart", [
    "cancel probe",
    "cancel ready",
    "SIGTERM 7",
    "set kill@1500",
  ]],
  ["running", "start", "running", ["reply already_running"]],
  ["running", "restart", "stopping(block) +restart", [
    "cancel probe",
    "cancel ready",
    "SIGTERM 7",
    "set kill@1500",
  ]],
  ["stopping", "start", "stopping(block) +start", []],
  ["stopping", "restart", "stopping(block) +restart", []],
  ["restarting", "start", "blocked", ["cancel backoff", "reply blocked"]],
  ["restarting", "restart", "blocked", ["cancel backoff", "reply blocked"]],
  ["failed", "start", "blocked", ["reply blocked"]],
  ["failed", "restart", "blocked", ["reply blocked"]],
];

Deno.test("machine table: a start or restart whose dependencies are down waits, blocked, in every state", () => {
  assertEquals(DEPS_DOWN.length, Object.keys(ACTIONS).length * 2);
  for (const [state, kind, next, effects] of DEPS_DOWN) {
    const event: Event = { kind, depsUp: false, request: 1 };
    assertEquals(outcome(STATES[state], event), [next, effects], `${state} × ${kind} (deps down)`);
  }
});

Deno.test("machine table: after its shutdown a supervisor starts nothing again", () => {
  const closed = { closed: true };
  assertEquals(outcome(STATES.stopped, EVENTS.start, closed), ["stopped", ["reply Internal"]]);
  assertEquals(outcome(STATES.stopped, EVENTS.restart, closed), ["stopped", ["reply Internal"]]);
  assertEquals(outcome(STATES.failed, EVENTS.start, closed), ["failed", ["reply Internal"]]);
  assertEquals(outcome(STATES.stopped, EVENTS.stop, closed), ["stopped", ["reply not_running"]]);
  assertEquals(outcome(STATES.stopped, EVENTS.shutdown, closed), ["stopped", ["reply stopped"]]);
});

Deno.test("machine table: a per-session child past max-retries-per-minute stops the run, and the server fails", () => {
  const max = CONFIG.restart.maxRetriesPerMinute;
  const full = { window: Array.from({ length: max }, (_, i) => NOW - 1 - i) };
  assertEquals(outcome(STATES.running, EVENTS.session_exited, full), [
    "stopping(fail)",
    ["cancel probe", "cancel ready", "SIGTERM 7", "set kill@1500"],
  ]);
  const stopping = step(
    { ...initialModel(), ...full, state: STATES.running },
    EVENTS.session_exited,
    NOW,
    CONFIG,
  ).model;
  const gone = step(stopping, EVENTS.exited, NOW + 10, CONFIG).model;
  assertEquals(gone.state.kind, "failed");
  assertEquals(gone.state.kind === "failed" && gone.state.cause, "crash_loop");
  assertEquals(
    gone.lastError,
    `the process of session s1 exited with code 1; ${max} restarts within 60s (max-retries-per-minute ${max})`,
  );
  // Below the limit the session's child is started again, and counted.
  const once = step(
    { ...initialModel(), state: STATES.running },
    EVENTS.session_exited,
    NOW,
    CONFIG,
  ).model;
  assertEquals([once.restartCount, once.window, once.state.kind], [1, [NOW], "running"]);
});
