import { assert, assertEquals } from "../assert.ts";
import {
  type Event,
  initialModel,
  type MachineConfig,
  type Model,
  step,
} from "../../lib/supervisor/machine.ts";
import { backoffDelay } from "../../lib/supervisor/backoff.ts";
import { admitRestart, pruneWindow } from "../../lib/supervisor/retry_window.ts";
import type { RestartConfig } from "../../lib/config/schema.ts";

const RESTART: RestartConfig = {
  policy: "on-failure",
  backoffInitialMs: 1000,
  backoffMaxMs: 8000,
  maxRetriesPerMinute: 5,
  resetAfterMs: 10_000,
};

function cfg(restart: Partial<RestartConfig> = {}): MachineConfig {
  return { restart: { ...RESTART, ...restart }, graceMs: 500 };
}

/** Feeds events in order, each at its time; returns the model and every effect. */
function run(events: [number, Event][], config = cfg(), model: Model = initialModel()) {
  const effects = [];
  for (const [now, ev] of events) {
    const r = step(model, ev, now, config);
    model = r.model;
    effects.push(...r.effects);
  }
  return { model, effects };
}

const running = (
  pid = 100,
): [number, Event][] => [[0, { kind: "start" }], [0, { kind: "spawned", pid }]];

Deno.test("machine: start spawns, and a spawned process is running", () => {
  const a = run([[0, { kind: "start" }]]);
  assertEquals(a.model.state, { kind: "starting", pid: null, since: 0 });
  assertEquals(a.effects, [{ kind: "spawn" }]);
  const b = run(running(42));
  assertEquals(b.model.state, { kind: "running", pid: 42, since: 0 });
});

Deno.test("machine: a spawn failure makes the server failed with the reason", () => {
  const { model } = run([[0, { kind: "start" }], [0, {
    kind: "spawn_failed",
    reason: "command not found",
  }]]);
  assertEquals(model.state, { kind: "failed", reason: "command not found" });
  assertEquals(model.lastError, "command not found");
});

Deno.test("machine: a crash enters restarting with the initial backoff and sets a timer", () => {
  const { model, effects } = run([...running(), [2000, { kind: "exited", code: 1, signal: null }]]);
  assertEquals(model.state, { kind: "restarting", attempt: 1, until: 3000 });
  assertEquals(effects.at(-1), { kind: "set_timer", at: 3000 });
  assertEquals(model.restartCount, 1);
  assertEquals(model.lastExit, { code: 1, signal: null, at: 2000 });
});

Deno.test("machine: the timer respawns; an early timer is ignored", () => {
  const base = run([...running(), [0, { kind: "exited", code: 1, signal: null }]]);
  const early = run([[500, { kind: "timer" }]], cfg(), base.model);
  assertEquals(early.model.state.kind, "restarting");
  assertEquals(early.effects, []);
  const due = run([[1000, { kind: "timer" }]], cfg(), base.model);
  assertEquals(due.model.state.kind, "starting");
  assertEquals(due.effects, [{ kind: "spawn" }]);
});

Deno.test("machine: consecutive crashes double the backoff up to the cap", () => {
  let t = 0;
  const events: [number, Event][] = [[0, { kind: "start" }]];
  const delays: number[] = [];
  let model = initialModel();
  ({ model } = run(events, cfg({ maxRetriesPerMinute: 100 }), model));
  for (let i = 0; i < 6; i++) {
    ({ model } = run(
      [[t, { kind: "spawned", pid: 10 + i }], [t + 1, { kind: "exited", code: 1, signal: null }]],
      cfg({ maxRetriesPerMinute: 100 }),
      model,
    ));
    assert(model.state.kind === "restarting");
    delays.push(model.state.until - (t + 1));
    t = model.state.until;
    ({ model } = run([[t, { kind: "timer" }]], cfg({ maxRetriesPerMinute: 100 }), model));
  }
  assertEquals(delays, [1000, 2000, 4000, 8000, 8000, 8000]);
});

Deno.test("machine: a run that lasts reset-after resets the backoff", () => {
  const c = cfg();
  let { model } = run([...running(), [1, { kind: "exited", code: 1, signal: null }]], c);
  ({ model } = run(
    [[1001, { kind: "timer" }], [1001, { kind: "spawned", pid: 2 }], [1002, {
      kind: "exited",
      code: 1,
      signal: null,
    }]],
    c,
    model,
  ));
  assert(model.state.kind === "restarting");
  assertEquals(model.state.until - 1002, 2000);
  // Now a long run: 10 s or more resets the attempt counter.
  ({ model } = run(
    [[3002, { kind: "timer" }], [3002, { kind: "spawned", pid: 3 }], [13_002, {
      kind: "exited",
      code: 1,
      signal: null,
    }]],
    c,
    model,
  ));
  assert(model.state.kind === "restarting");
  assertEquals(model.state.until - 13_002, 1000);
});

Deno.test("machine: the window full of restarts makes the server failed", () => {
  const c = cfg({ maxRetriesPerMinute: 2, backoffInitialMs: 0 });
  let { model } = run(running(), c);
  for (let i = 0; i < 2; i++) {
    ({ model } = run(
      [[i, { kind: "exited", code: 1, signal: null }], [i, { kind: "timer" }], [i, {
        kind: "spawned",
        pid: 5 + i,
      }]],
      c,
      model,
    ));
    assertEquals(model.state.kind, "running");
  }
  ({ model } = run([[3, { kind: "exited", code: 1, signal: null }]], c, model));
  assertEquals(model.state.kind, "failed");
  assert(model.state.kind === "failed" && /2 restarts within 60s/.test(model.state.reason));
});

Deno.test("machine: restarts older than 60 s leave the window", () => {
  const c = cfg({ maxRetriesPerMinute: 2, backoffInitialMs: 0, resetAfterMs: 1_000_000 });
  let { model } = run(running(), c);
  ({ model } = run(
    [[0, { kind: "exited", code: 1, signal: null }], [0, { kind: "timer" }], [0, {
      kind: "spawned",
      pid: 6,
    }]],
    c,
    model,
  ));
  ({ model } = run(
    [[1, { kind: "exited", code: 1, signal: null }], [1, { kind: "timer" }], [1, {
      kind: "spawned",
      pid: 7,
    }]],
    c,
    model,
  ));
  // 61 s later both earlier restarts have expired: this crash is admitted.
  ({ model } = run([[61_000, { kind: "exited", code: 1, signal: null }]], c, model));
  assertEquals(model.state.kind, "restarting");
  assertEquals(model.window, [61_000]);
});

Deno.test("machine: policy never stops on any exit; on-failure stops on exit 0 only; always restarts on 0", () => {
  const never = run(
    [...running(), [5, { kind: "exited", code: 1, signal: null }]],
    cfg({ policy: "never" }),
  );
  assertEquals(never.model.state.kind, "stopped");
  const clean = run(
    [...running(), [5, { kind: "exited", code: 0, signal: null }]],
    cfg({ policy: "on-failure" }),
  );
  assertEquals(clean.model.state.kind, "stopped");
  const signalled = run(
    [...running(), [5, { kind: "exited", code: null, signal: "SIGKILL" }]],
    cfg({ policy: "on-failure" }),
  );
  assertEquals(signalled.model.state.kind, "restarting");
  const always = run(
    [...running(), [5, { kind: "exited", code: 0, signal: null }]],
    cfg({ policy: "always" }),
  );
  assertEquals(always.model.state.kind, "restarting");
});

Deno.test("machine: stop terminates the group and waits for the exit", () => {
  const a = run([...running(7), [10, { kind: "stop" }]]);
  assertEquals(a.model.state, { kind: "stopping", pid: 7, since: 10, then: "stop" });
  assertEquals(a.effects.at(-1), { kind: "terminate", pid: 7, graceMs: 500 });
  const b = run([[20, { kind: "exited", code: null, signal: "SIGTERM" }]], cfg(), a.model);
  assertEquals(b.model.state.kind, "stopped");
  assertEquals(b.model.restartCount, 0);
});

Deno.test("machine: stop during the backoff stops at once and cancels the timer", () => {
  const { model, effects } = run([...running(), [1, { kind: "exited", code: 1, signal: null }], [
    2,
    { kind: "stop" },
  ]]);
  assertEquals(model.state.kind, "stopped");
  assertEquals(effects.at(-1), { kind: "cancel_timer" });
});

Deno.test("machine: start during the backoff spawns at once", () => {
  const { model, effects } = run([...running(), [1, { kind: "exited", code: 1, signal: null }], [
    2,
    { kind: "start" },
  ]]);
  assertEquals(model.state.kind, "starting");
  assertEquals(effects.slice(-2), [{ kind: "cancel_timer" }, { kind: "spawn" }]);
});

Deno.test("machine: stop during starting stops the new process", () => {
  const { model, effects } = run([[0, { kind: "start" }], [0, { kind: "spawned", pid: 9 }], [1, {
    kind: "stop",
  }]]);
  assertEquals(model.state.kind, "stopping");
  assertEquals(effects.at(-1), { kind: "terminate", pid: 9, graceMs: 500 });
});

Deno.test("machine: shutdown during the backoff exits at once", () => {
  const { model, effects } = run([...running(), [1, { kind: "exited", code: 1, signal: null }], [
    2,
    { kind: "shutdown" },
  ]]);
  assertEquals(model.state.kind, "stopped");
  assertEquals(effects.slice(-2), [{ kind: "cancel_timer" }, { kind: "exit" }]);
});

Deno.test("machine: shutdown of a running server terminates, then exits", () => {
  const a = run([...running(3), [1, { kind: "shutdown" }]]);
  assertEquals(a.effects.at(-1), { kind: "terminate", pid: 3, graceMs: 500 });
  const b = run([[2, { kind: "exited", code: 0, signal: null }]], cfg(), a.model);
  assertEquals(b.model.state.kind, "stopped");
  assertEquals(b.effects, [{ kind: "exit" }]);
});

Deno.test("machine: restart stops then starts, and clears the window and backoff", () => {
  const c = cfg({ maxRetriesPerMinute: 1, backoffInitialMs: 0 });
  let { model } = run([...running(), [1, { kind: "exited", code: 1, signal: null }], [1, {
    kind: "timer",
  }], [1, { kind: "spawned", pid: 2 }]], c);
  assertEquals(model.window.length, 1);
  let effects;
  ({ model, effects } = run([[2, { kind: "restart" }]], c, model));
  assertEquals(model.state.kind, "stopping");
  assertEquals(model.window, []);
  assertEquals(effects, [{ kind: "terminate", pid: 2, graceMs: 500 }]);
  ({ model, effects } = run([[3, { kind: "exited", code: null, signal: "SIGTERM" }]], c, model));
  assertEquals(model.state.kind, "starting");
  assertEquals(effects, [{ kind: "spawn" }]);
});

Deno.test("machine: a failed server leaves failed on stop (stopped) and on start (starting)", () => {
  const failed = run([[0, { kind: "start" }], [0, { kind: "spawn_failed", reason: "x" }]]).model;
  assertEquals(run([[1, { kind: "stop" }]], cfg(), failed).model.state.kind, "stopped");
  assertEquals(run([[1, { kind: "start" }]], cfg(), failed).model.state.kind, "starting");
});

Deno.test("machine: stopping a stopped server changes nothing", () => {
  const { model, effects } = run([[0, { kind: "stop" }]]);
  assertEquals(model, initialModel());
  assertEquals(effects, []);
});

Deno.test("machine: a process spawned after a stop is terminated, not adopted", () => {
  const { model, effects } = run([[0, { kind: "spawned", pid: 77 }]]);
  assertEquals(model.state.kind, "stopped");
  assertEquals(effects, [{ kind: "terminate", pid: 77, graceMs: 500 }]);
});

Deno.test("machine: transitions keep the last 20 with from, to, time and reason", () => {
  const c = cfg({ maxRetriesPerMinute: 1000, backoffInitialMs: 0 });
  let { model } = run(running(), c);
  for (let i = 1; i <= 10; i++) {
    ({ model } = run(
      [[i, { kind: "exited", code: 1, signal: null }], [i, { kind: "timer" }], [i, {
        kind: "spawned",
        pid: i + 1,
      }]],
      c,
      model,
    ));
  }
  assertEquals(model.transitions.length, 20);
  assertEquals(model.transitions.at(-1), {
    from: "starting",
    to: "running",
    at: 10,
    reason: "spawned pid 11",
  });
});

Deno.test("backoff: doubles from initial and caps at max; zero stays zero", () => {
  const o = { initialMs: 100, maxMs: 1000 };
  assertEquals([0, 1, 2, 3, 4, 50, 5000].map((a) => backoffDelay(a, o)), [
    100,
    200,
    400,
    800,
    1000,
    1000,
    1000,
  ]);
  assertEquals(backoffDelay(3, { initialMs: 0, maxMs: 1000 }), 0);
});

Deno.test("retry window: admits up to max within 60 s and forgets older entries", () => {
  let w: number[] = [];
  for (const t of [0, 10, 20]) {
    const r = admitRestart(w, { now: t, max: 3 });
    assert(r.allowed);
    w = r.window;
  }
  assertEquals(admitRestart(w, { now: 30, max: 3 }).allowed, false);
  assertEquals(pruneWindow(w, 60_005), [10, 20]);
  assertEquals(admitRestart(w, { now: 60_001, max: 3 }).allowed, true);
});
