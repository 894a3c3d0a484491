import { assert, assertEquals } from "../../assert.ts";
import { cancelTimer, runMachine, setTimer } from "./machine_steps.ts";
import type { Event, MachineConfig, Model, TimerName } from "../../../lib/supervisor/core/model.ts";
import type { ProbeResult } from "../../../lib/health/probe.ts";
import { DEFAULTS, type RestartConfig } from "../../../lib/config/schema.ts";

const HEALTH = { intervalMs: 10_000, retries: 3, startPeriodMs: 20_000 };
function cfg(restart: Partial<RestartConfig> = {}): MachineConfig {
  return {
    restart: { ...DEFAULTS.restart, backoffInitialMs: 1000, ...restart },
    graceMs: 500,
    health: HEALTH,
  };
}

const ok: ProbeResult = { status: "healthy", message: "notes 1.0.0", latencyMs: 4 };
const auth: ProbeResult = { status: "needs-auth", message: "HTTP 401: needs auth", latencyMs: 2 };
const refused: ProbeResult = { status: "failed", message: "connection refused", latencyMs: 0 };
const http500: ProbeResult = { status: "failed", message: "HTTP 500", latencyMs: 3 };

const probed = (pid: number, result: ProbeResult): Event => ({ kind: "probed", pid, result });
const timer = (t: TimerName): Event => ({ kind: "timer", timer: t });
/** The end of `pid` by the SIGTERM its stop sent, its group gone with it. */
const terminated = (pid: number): Event => ({
  kind: "exited",
  pid,
  code: null,
  signal: "SIGTERM",
  groupAlive: false,
});

const run = (events: [number, Event][], config = cfg(), model?: Model) =>
  runMachine(events, config, model);

const spawned = (pid = 7): [number, Event][] => [[0, { kind: "start" }], [0, {
  kind: "spawned",
  pid,
}]];

Deno.test("readiness: with health checks a spawned server stays starting, probed soon, with a deadline", () => {
  const { model, effects } = run(spawned());
  assertEquals(model.state, { kind: "starting", pid: 7, since: 0 });
  assertEquals(effects.slice(-2), [setTimer("probe", 50), setTimer("ready", 20_000)]);
  assertEquals(run([[50, timer("probe")]], cfg(), model).effects, [{ kind: "probe", pid: 7 }]);
});

Deno.test("readiness: failures while starting bring the next probe sooner than the interval, doubling to a cap", () => {
  let { model } = run(spawned());
  const delays: number[] = [];
  let t = 50;
  for (let i = 0; i < 6; i++) {
    const r = run([[t, probed(7, refused)]], cfg(), model);
    model = r.model;
    const next = r.effects.find((e) => e.kind === "set_timer") as { at: number };
    delays.push(next.at - t);
    t = next.at;
  }
  assertEquals(delays, [100, 200, 400, 500, 500, 500]);
  assertEquals(model.state.kind, "starting");
  assertEquals(model.health.status, "unknown");
});

Deno.test("readiness: the first passing probe makes it running and healthy; probes go on at the interval", () => {
  const { model, effects } = run([...spawned(), [1500, probed(7, ok)]]);
  assertEquals(model.state, { kind: "running", pid: 7, since: 0 });
  assertEquals(model.transitions.at(-1)!.reason, "ready: notes 1.0.0");
  assertEquals(model.health, { status: "healthy", failures: 0, last: { ...ok, at: 1500 } });
  assertEquals(effects.slice(-2), [cancelTimer("ready"), setTimer("probe", 11_500)]);
  const a = run([...spawned(), [10, probed(7, auth)]]);
  assertEquals([a.model.state.kind, a.model.health.status], ["running", "needs-auth"]);
});

Deno.test("readiness: no success within the start period fails the start, stops the group, and the policy applies", () => {
  let { model, effects } = run([...spawned(), [50, probed(7, refused)], [20_000, timer("ready")]]);
  assert(model.state.kind === "stopping");
  assertEquals(model.state.failure, "not ready after 20s: connection refused");
  assertEquals(effects.slice(-2), [
    { kind: "signal_group", pgid: 7, signal: "SIGTERM" },
    setTimer("kill", 20_500),
  ]);
  assert(effects.some((e) => e.kind === "cancel_timer" && e.timer === "probe"), "no more probes");
  ({ model } = run(
    [[20_100, terminated(7)]],
    cfg(),
    model,
  ));
  assertEquals(model.state, { kind: "restarting", attempt: 1, until: 21_100 });
  assertEquals(model.lastError, "not ready after 20s: connection refused");
  assertEquals(model.window, [20_100], "counted in the retry window");
  const never = run(
    [...spawned(), [20_000, timer("ready")], [20_001, {
      kind: "exited",
      pid: 7,
      code: 0,
      signal: null,
      groupAlive: false,
    }]],
    cfg({ policy: "on-failure" }),
  );
  assertEquals(
    never.model.state.kind,
    "restarting",
    "a start that failed is a failure, exit 0 or not",
  );
});

Deno.test("readiness: a ready timer that fires early is set again", () => {
  const { model } = run(spawned());
  assertEquals(run([[5_000, timer("ready")]], cfg(), model).effects, [setTimer("ready", 20_000)]);
});

Deno.test("liveness: `retries` failures in a row make a running server unhealthy and restart it; a success resets the count", () => {
  let { model } = run([...spawned(), [100, probed(7, ok)]]);
  ({ model } = run([[10_100, probed(7, http500)], [20_100, probed(7, http500)]], cfg(), model));
  assertEquals([model.state.kind, model.health.failures, model.health.status], [
    "running",
    2,
    "healthy",
  ]);
  ({ model } = run([[30_100, probed(7, ok)]], cfg(), model));
  assertEquals(model.health.failures, 0);
  let effects;
  ({ model, effects } = run(
    [[40_100, probed(7, http500)], [50_100, probed(7, http500)], [60_100, probed(7, http500)]],
    cfg(),
    model,
  ));
  assert(model.state.kind === "stopping");
  assertEquals(model.state.failure, "unhealthy: 3 probes failed in a row: HTTP 500");
  assertEquals(model.health.status, "unhealthy");
  assertEquals(effects.at(-2), { kind: "signal_group", pgid: 7, signal: "SIGTERM" });
  ({ model } = run(
    [[60_200, terminated(7)]],
    cfg(),
    model,
  ));
  assertEquals(model.state.kind, "restarting");
  assertEquals(model.restartCount, 1);
});

Deno.test("readiness: probes of another process, or of a server no longer live, change nothing", () => {
  const { model } = run(spawned());
  for (const e of [probed(8, ok), timer("probe")]) {
    const stopped = run([[1, { kind: "stop" }], [2, e]], cfg(), model);
    assertEquals(stopped.model.state.kind, "stopping");
    assert(!stopped.effects.some((x) => x.kind === "probe"));
  }
  assertEquals(run([[1, probed(8, ok)]], cfg(), model).model, model);
});

Deno.test("readiness: without health checks a spawned server is running at once", () => {
  const noHealth = { ...cfg() };
  delete (noHealth as { health?: unknown }).health;
  const { model, effects } = run(spawned(), noHealth);
  assertEquals(model.state.kind, "running");
  assertEquals(effects, [{ kind: "spawn" }]);
});

Deno.test("readiness: once its process is gone a server's health is unknown again; the last probe is kept", () => {
  let { model } = run([...spawned(), [100, probed(7, ok)]]);
  assertEquals([model.state.kind, model.health.status], ["running", "healthy"]);
  ({ model } = run([[5_000, { kind: "stop" }]], cfg(), model));
  assertEquals([model.state.kind, model.health.status], ["stopping", "healthy"]);
  ({ model } = run([[5_100, terminated(7)]], cfg(), model));
  assertEquals([model.state.kind, model.health.status], ["stopped", "unknown"]);
  assertEquals(model.health.last, { ...ok, at: 100 });
});
