import { assert, assertEquals } from "../../assert.ts";
import { cancelTimer, runMachine, setTimer } from "./machine_steps.ts";
import {
  type Event,
  type FailureCause,
  initialModel,
  KILL_WAIT_MS,
  type MachineConfig,
  type Model,
  type TimerName,
} from "../../../lib/supervisor/core/model.ts";
import type { RestartConfig } from "../../../lib/config/schema.ts";

const RESTART: RestartConfig = {
  policy: "on-failure",
  backoffInitialMs: 1000,
  backoffMaxMs: 8000,
  maxRetriesPerMinute: 5,
  resetAfterMs: 10_000,
};
const GRACE = 500;

function cfg(restart: Partial<RestartConfig> = {}): MachineConfig {
  return { restart: { ...RESTART, ...restart }, graceMs: GRACE };
}

/** Events, built so a test reads as the story it tells. */
const ev = {
  start: { kind: "start" } as Event,
  restart: { kind: "restart" } as Event,
  stop: { kind: "stop" } as Event,
  shutdown: { kind: "shutdown" } as Event,
  spawned: (pid: number): Event => ({ kind: "spawned", pid }),
  spawnFailed: (reason: string, cause: FailureCause = "spawn_failed"): Event => ({
    kind: "spawn_failed",
    reason,
    cause,
  }),
  /** The leader exited with `code`; its group emptied with it unless `groupAlive`. */
  exit: (pid: number, code: number, groupAlive = false): Event => ({
    kind: "exited",
    pid,
    code,
    signal: null,
    groupAlive,
  }),
  killed: (pid: number, signal: string, groupAlive = false): Event => ({
    kind: "exited",
    pid,
    code: null,
    signal,
    groupAlive,
  }),
  gone: (pid: number): Event => ({ kind: "group_gone", pid }),
  timer: (timer: TimerName): Event => ({ kind: "timer", timer }),
};

const sigterm = (pgid: number) => ({ kind: "signal_group", pgid, signal: "SIGTERM" }) as const;
const sigkill = (pgid: number) => ({ kind: "signal_group", pgid, signal: "SIGKILL" }) as const;

/** Feeds events in order, each at its time; returns the model and every effect. */
const run = (events: [number, Event][], config = cfg(), model?: Model) =>
  runMachine(events, config, model);

const running = (pid = 100): [number, Event][] => [[0, ev.start], [0, ev.spawned(pid)]];
/** One crash of `pid` at `t`, the backoff elapsing, and the respawn as `next`. */
const crashAndBack = (pid: number, t: number, next: number): [number, Event][] => [
  [t, ev.exit(pid, 1)],
  [t, ev.timer("backoff")],
  [t, ev.spawned(next)],
];

Deno.test("machine: start spawns, and a spawned process is running", () => {
  const a = run([[0, ev.start]]);
  assertEquals(a.model.state, { kind: "starting", pid: null, since: 0 });
  assertEquals(a.effects, [{ kind: "spawn" }]);
  assertEquals(run(running(42)).model.state, { kind: "running", pid: 42, since: 0 });
});

Deno.test("machine: a spawn failure makes the server failed with the reason and its cause", () => {
  const { model } = run([[0, ev.start], [0, ev.spawnFailed("command not found")]]);
  assertEquals(model.state, {
    kind: "failed",
    reason: "command not found",
    cause: "spawn_failed",
  });
  assertEquals(model.lastError, "command not found");
  const port = run([[0, ev.start], [0, ev.spawnFailed("port 1 is in use", "port_conflict")]]);
  assertEquals(port.model.state.kind === "failed" && port.model.state.cause, "port_conflict");
});

Deno.test("machine: a crash enters restarting with the initial backoff and sets a timer", () => {
  const { model, effects } = run([...running(), [2000, ev.exit(100, 1)]]);
  assertEquals(model.state, { kind: "restarting", attempt: 1, until: 3000 });
  assertEquals(effects.at(-1), setTimer("backoff", 3000));
  assertEquals(model.restartCount, 1);
  assertEquals(model.lastExit, { code: 1, signal: null, at: 2000 });
});

Deno.test("machine: the backoff timer respawns; one that fires early is set again", () => {
  const base = run([...running(), [0, ev.exit(100, 1)]]);
  const early = run([[500, ev.timer("backoff")]], cfg(), base.model);
  assertEquals(early.model.state.kind, "restarting");
  assertEquals(early.effects, [setTimer("backoff", 1000)]);
  const due = run([[1000, ev.timer("backoff")]], cfg(), base.model);
  assertEquals(due.model.state.kind, "starting");
  assertEquals(due.effects, [{ kind: "spawn" }]);
});

Deno.test("machine: consecutive crashes double the backoff up to the cap", () => {
  const c = cfg({ maxRetriesPerMinute: 100 });
  let t = 0;
  let { model } = run([[0, ev.start]], c);
  const delays: number[] = [];
  for (let i = 0; i < 6; i++) {
    ({ model } = run([[t, ev.spawned(10 + i)], [t + 1, ev.exit(10 + i, 1)]], c, model));
    assert(model.state.kind === "restarting");
    delays.push(model.state.until - (t + 1));
    t = model.state.until;
    ({ model } = run([[t, ev.timer("backoff")]], c, model));
  }
  assertEquals(delays, [1000, 2000, 4000, 8000, 8000, 8000]);
});

Deno.test("machine: a run that lasts reset-after resets the backoff", () => {
  const c = cfg();
  let { model } = run([...running(), [1, ev.exit(100, 1)]], c);
  ({ model } = run(
    [[1001, ev.timer("backoff")], [1001, ev.spawned(2)], [1002, ev.exit(2, 1)]],
    c,
    model,
  ));
  assert(model.state.kind === "restarting");
  assertEquals(model.state.until - 1002, 2000);
  // Now a long run: 10 s or more resets the attempt counter.
  ({ model } = run(
    [[3002, ev.timer("backoff")], [3002, ev.spawned(3)], [13_002, ev.exit(3, 1)]],
    c,
    model,
  ));
  assert(model.state.kind === "restarting");
  assertEquals(model.state.until - 13_002, 1000);
});

Deno.test("machine: the window full of restarts makes the server failed, cause crash_loop", () => {
  const c = cfg({ maxRetriesPerMinute: 2, backoffInitialMs: 0 });
  let { model } = run(running(5), c);
  for (let i = 0; i < 2; i++) {
    ({ model } = run(crashAndBack(5 + i, i, 6 + i), c, model));
    assertEquals(model.state.kind, "running");
  }
  ({ model } = run([[3, ev.exit(7, 1)]], c, model));
  assert(model.state.kind === "failed");
  assertEquals(model.state.cause, "crash_loop");
  assert(/2 restarts within 60s/.test(model.state.reason));
});

Deno.test("machine: restarts older than 60 s leave the window", () => {
  const c = cfg({ maxRetriesPerMinute: 2, backoffInitialMs: 0, resetAfterMs: 1_000_000 });
  let { model } = run(running(5), c);
  ({ model } = run([...crashAndBack(5, 0, 6), ...crashAndBack(6, 1, 7)], c, model));
  // 61 s later both earlier restarts have expired: this crash is admitted.
  ({ model } = run([[61_000, ev.exit(7, 1)]], c, model));
  assertEquals(model.state.kind, "restarting");
  assertEquals(model.window, [61_000]);
});

Deno.test("machine: policy never stops on any exit; on-failure stops on exit 0 only; always restarts on 0", () => {
  const after = (policy: RestartConfig["policy"], exit: Event) =>
    run([...running(), [5, exit]], cfg({ policy })).model.state.kind;
  assertEquals(after("never", ev.exit(100, 1)), "stopped");
  assertEquals(after("on-failure", ev.exit(100, 0)), "stopped");
  assertEquals(after("on-failure", ev.killed(100, "SIGKILL")), "restarting");
  assertEquals(after("always", ev.exit(100, 0)), "restarting");
});

Deno.test("machine: stop sends SIGTERM to the group, arms the kill timer, and ends once the group is gone", () => {
  const a = run([...running(7), [10, ev.stop]]);
  assertEquals(a.model.state, {
    kind: "stopping",
    pid: 7,
    since: 10,
    ranSince: 0,
    phase: "term",
    deadline: 10 + GRACE,
    then: "stop",
    exit: null,
    failure: null,
  });
  assertEquals(a.effects.slice(-2), [sigterm(7), setTimer("kill", 10 + GRACE)]);
  const b = run([[20, ev.killed(7, "SIGTERM")]], cfg(), a.model);
  assertEquals(b.model.state.kind, "stopped");
  assertEquals(b.effects, [cancelTimer("kill")]);
  assertEquals(b.model.restartCount, 0);
});

Deno.test("machine: a group still alive at the end of the grace gets SIGKILL, then is waited for", () => {
  let { model, effects } = run([...running(7), [10, ev.stop]]);
  // The leader went, a grandchild did not.
  ({ model, effects } = run([[20, ev.killed(7, "SIGTERM", true)]], cfg(), model));
  assertEquals(effects, []);
  assert(model.state.kind === "stopping" && model.state.exit?.signal === "SIGTERM");
  // A kill timer that fires early (the clock stepped) is re-armed, not acted on.
  ({ effects } = run([[100, ev.timer("kill")]], cfg(), model));
  assertEquals(effects, [setTimer("kill", 10 + GRACE)]);
  ({ model, effects } = run([[10 + GRACE, ev.timer("kill")]], cfg(), model));
  assertEquals(effects, [sigkill(7), setTimer("kill", 10 + GRACE + KILL_WAIT_MS)]);
  assert(model.state.kind === "stopping" && model.state.phase === "kill");
  ({ model, effects } = run([[600, ev.gone(7)]], cfg(), model));
  assertEquals(model.state.kind, "stopped");
  assertEquals(model.lastExit, { code: null, signal: "SIGTERM", at: 20 });
  assertEquals(effects, [cancelTimer("kill")]);
});

Deno.test("machine: a group that outlives SIGKILL is given up on, and supervision goes on", () => {
  let { model } = run([...running(7), [0, ev.restart]]);
  ({ model } = run([[GRACE, ev.timer("kill")]], cfg(), model));
  const { model: after, effects } = run(
    [[GRACE + KILL_WAIT_MS, ev.timer("kill")]],
    cfg(),
    model,
  );
  assertEquals(after.state.kind, "starting", "the restart goes ahead");
  assertEquals(effects, [cancelTimer("kill"), { kind: "spawn" }]);
  assert(after.transitions.some((t) => /starting again/.test(t.reason)));
});

Deno.test("machine: a leader that leaves its group behind is swept before the policy decides", () => {
  let { model, effects } = run([...running(9), [50, ev.exit(9, 2, true)]]);
  assert(model.state.kind === "stopping");
  assertEquals([model.state.then, model.state.phase], ["policy", "term"]);
  assertEquals(effects.slice(-2), [sigterm(9), setTimer("kill", 50 + GRACE)]);
  assertEquals(model.lastExit?.code, 2, "the exit is shown during the sweep");
  ({ model, effects } = run([[80, ev.gone(9)]], cfg(), model));
  assertEquals(model.state, { kind: "restarting", attempt: 1, until: 80 + 1000 });
  assertEquals(effects, [cancelTimer("kill"), setTimer("backoff", 1080)]);
  assertEquals(model.restartCount, 1);
});

Deno.test("machine: stop during the sweep after a crash stops instead of restarting", () => {
  const { model } = run([...running(9), [50, ev.exit(9, 2, true)], [60, ev.stop], [
    70,
    ev.gone(9),
  ]]);
  assertEquals(model.state.kind, "stopped");
  assertEquals(model.restartCount, 0);
});

Deno.test("machine: events about another process are ignored", () => {
  const base = run(running(9)).model;
  for (const e of [ev.exit(8, 1), ev.gone(9), ev.gone(8), ev.timer("kill")]) {
    const { model, effects } = run([[5, e]], cfg(), base);
    assertEquals(model, base, `for ${JSON.stringify(e)}`);
    assertEquals(effects, []);
  }
});

Deno.test("machine: stop during the backoff stops at once and cancels the timer", () => {
  const { model, effects } = run([...running(), [1, ev.exit(100, 1)], [2, ev.stop]]);
  assertEquals(model.state.kind, "stopped");
  assertEquals(effects.at(-1), cancelTimer("backoff"));
});

Deno.test("machine: start during the backoff spawns at once", () => {
  const { model, effects } = run([...running(), [1, ev.exit(100, 1)], [2, ev.start]]);
  assertEquals(model.state.kind, "starting");
  assertEquals(effects.slice(-2), [cancelTimer("backoff"), { kind: "spawn" }]);
});

Deno.test("machine: stop during starting stops the new process", () => {
  const { model, effects } = run([[0, ev.start], [0, ev.spawned(9)], [1, ev.stop]]);
  assertEquals(model.state.kind, "stopping");
  assertEquals(effects.slice(-2), [sigterm(9), setTimer("kill", 1 + GRACE)]);
});

Deno.test("machine: shutdown during the backoff exits at once", () => {
  const { model, effects } = run([...running(), [1, ev.exit(100, 1)], [2, ev.shutdown]]);
  assertEquals(model.state.kind, "stopped");
  assertEquals(effects.slice(-2), [cancelTimer("backoff"), { kind: "exit" }]);
});

Deno.test("machine: shutdown of a running server terminates, then exits", () => {
  const a = run([...running(3), [1, ev.shutdown]]);
  assertEquals(a.effects.slice(-2), [sigterm(3), setTimer("kill", 1 + GRACE)]);
  const b = run([[2, ev.exit(3, 0)]], cfg(), a.model);
  assertEquals(b.model.state.kind, "stopped");
  assertEquals(b.effects, [cancelTimer("kill"), { kind: "exit" }]);
});

Deno.test("machine: restart stops then starts, and clears the window and backoff", () => {
  const c = cfg({ maxRetriesPerMinute: 1, backoffInitialMs: 0 });
  let { model } = run([...running(1), ...crashAndBack(1, 1, 2)], c);
  assertEquals(model.window.length, 1);
  let effects;
  ({ model, effects } = run([[2, ev.restart]], c, model));
  assertEquals(model.state.kind, "stopping");
  assertEquals(model.window, []);
  assertEquals(effects, [sigterm(2), setTimer("kill", 2 + GRACE)]);
  ({ model, effects } = run([[3, ev.killed(2, "SIGTERM")]], c, model));
  assertEquals(model.state.kind, "starting");
  assertEquals(effects, [cancelTimer("kill"), { kind: "spawn" }]);
});

Deno.test("machine: a failed server leaves failed on stop (stopped) and on start (starting)", () => {
  const failed = run([[0, ev.start], [0, ev.spawnFailed("x")]]).model;
  assertEquals(run([[1, ev.stop]], cfg(), failed).model.state.kind, "stopped");
  assertEquals(run([[1, ev.start]], cfg(), failed).model.state.kind, "starting");
});

Deno.test("machine: stopping a stopped server changes nothing", () => {
  const { model, effects } = run([[0, ev.stop]]);
  assertEquals(model, initialModel());
  assertEquals(effects, []);
});

Deno.test("machine: a process spawned after a stop is killed, not adopted", () => {
  const { model, effects } = run([[0, ev.spawned(77)]]);
  assertEquals(model.state.kind, "stopped");
  assertEquals(effects, [sigkill(77)]);
});

Deno.test("machine: transitions keep the last 20 with from, to, time and reason", () => {
  const c = cfg({ maxRetriesPerMinute: 1000, backoffInitialMs: 0 });
  let { model } = run(running(1), c);
  for (let i = 1; i <= 10; i++) ({ model } = run(crashAndBack(i, i, i + 1), c, model));
  assertEquals(model.transitions.length, 20);
  assertEquals(model.transitions.at(-1), {
    from: "starting",
    to: "running",
    at: 10,
    reason: "spawned pid 11",
  });
});

Deno.test("machine: a fresh actor resumes a backoff where the dead one left it", () => {
  const { model, effects } = run([[100, { kind: "resume", restartCount: 4, until: 5000 }]]);
  assertEquals(model.state, { kind: "restarting", attempt: 1, until: 5000 });
  assertEquals(model.restartCount, 4);
  assertEquals(effects, [setTimer("backoff", 5000)]);
  const ignored = run([...running(), [100, { kind: "resume", restartCount: 4, until: 5000 }]]);
  assertEquals(ignored.model.state.kind, "running", "only a fresh actor resumes");
});

Deno.test("machine: a port taken during an automatic restart waits out a backoff; a manual start fails at once", () => {
  const taken = ev.spawnFailed("port 8421 is already in use by pid 9 (node)", "port_conflict");
  const base = run([...running(), [0, ev.exit(100, 1)], [1000, ev.timer("backoff")]]).model;
  assert(base.state.kind === "starting" && base.state.auto === true);
  const { model, effects } = run([[1000, taken]], cfg(), base);
  assertEquals(model.state, { kind: "restarting", attempt: 2, until: 3000 });
  assertEquals(model.lastError, "port 8421 is already in use by pid 9 (node)");
  assertEquals(model.window.length, 2, "counted in the retry window");
  assertEquals(effects, [setTimer("backoff", 3000)]);
  const manual = run([[0, ev.start], [0, taken]]);
  assertEquals(manual.model.state.kind === "failed" && manual.model.state.cause, "port_conflict");
});
