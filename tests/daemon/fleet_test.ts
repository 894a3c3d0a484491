/**
 * The fleet and its dependency order, on fake supervisors that run the real
 * machine (fake_host.ts): every state asserted here is the machine's.
 */
import { assertEquals } from "../assert.ts";
import { Fleet, type Outcome } from "../../lib/daemon/fleet.ts";
import { Registry } from "../../lib/daemon/registry.ts";
import { summaryOf } from "../../lib/daemon/wire.ts";
import type { HealthConfig, ServerConfig } from "../../lib/config/schema.ts";
import { serverConfig } from "../supervisor/server_config.ts";
import { waitFor } from "../integration/harness.ts";
import { FakeWorld } from "./fake_host.ts";

const HEALTH: HealthConfig = {
  kind: "tcp",
  intervalMs: 60_000,
  timeoutMs: 1000,
  retries: 3,
  startPeriodMs: 60_000,
};

/** A fleet of `configs` (as the config dir holds them at each load) on fake supervisors. */
function fleetOf(configs: ServerConfig[] | (() => ServerConfig[])) {
  const world = new FakeWorld();
  const registry = new Registry({
    logDir: "/nonexistent",
    mode: "inline",
    log: () => {},
    makeHost: world.factory,
  });
  const fleet = new Fleet(registry, {
    configDir: "/nonexistent",
    log: () => {},
    load: () =>
      Promise.resolve({
        configs: typeof configs === "function" ? configs() : configs,
        invalid: [],
      }),
  });
  const state = (name: string) => fleet.registry.find(name)!.status.state;
  const row = (name: string) =>
    summaryOf(fleet.list().servers.find((v) => v.config.name === name)!, Date.now());
  return { fleet, world, state, row };
}

const server = (name: string, extra: Partial<ServerConfig> = {}) =>
  serverConfig(name, { command: "fake", args: [] }, extra);

/** Outcomes as [result or "error", name, cascade]. */
const told = (outcomes: Outcome[]) =>
  outcomes.map((o) => ["result" in o ? o.result : "error", o.name, o.cascade ?? false]);

Deno.test("fleet: at boot a dependent is blocked until its dependency is ready, then started", async () => {
  const f = fleetOf([
    server("db", { health: HEALTH }),
    server("api", { dependsOn: ["db"] }),
    server("web", { dependsOn: ["api"] }),
  ]);
  await f.fleet.boot(() => Promise.resolve(), () => {});
  assertEquals([f.state("db"), f.state("api"), f.state("web")], ["starting", "blocked", "blocked"]);
  assertEquals((await f.fleet.status("api")).blockedOn, [{ name: "db", state: "starting" }]);
  assertEquals(f.world.spawned.length, 1, "only db has a process");
  f.world.ready("db");
  await waitFor(
    "the chain up",
    () =>
      f.state("db") === "running" && f.state("api") === "running" && f.state("web") === "running",
  );
  assertEquals(f.world.spawned.length, 3);
});

Deno.test("fleet: from the moment a boot's start begins, dependents of an earlier wave show blocked, not stopped", async () => {
  const f = fleetOf([
    server("db", { health: HEALTH }),
    server("api", { dependsOn: ["db"] }),
    server("web", { dependsOn: ["api"] }),
  ]);
  const loaded = Promise.withResolvers<void>();
  const reaped = Promise.withResolvers<void>();
  const booting = f.fleet.boot(() => reaped.promise, () => loaded.resolve());
  // The configs are loaded, and an earlier daemon's leftovers are being reaped: nothing starts yet.
  await loaded.promise;
  assertEquals([f.state("db"), f.state("api"), f.state("web")], ["stopped", "stopped", "stopped"]);
  reaped.resolve();
  await waitFor("the start under way", () => f.state("web") !== "stopped");
  assertEquals([f.state("api"), f.state("web")], ["blocked", "blocked"]);
  await booting;
  assertEquals([f.state("db"), f.state("api"), f.state("web")], ["starting", "blocked", "blocked"]);
});

Deno.test("fleet: starting a server starts its dependencies; stopping one stops its dependents first", async () => {
  const f = fleetOf([
    server("db", { autostart: false }),
    server("api", { autostart: false, dependsOn: ["db"] }),
    server("lone", { autostart: false }),
  ]);
  await f.fleet.boot(() => Promise.resolve(), () => {});
  assertEquals(told(await f.fleet.lifecycle("start", { names: ["api"] })), [
    ["started", "db", true],
    ["started", "api", false],
  ]);
  assertEquals(f.state("lone"), "stopped");
  assertEquals(told(await f.fleet.lifecycle("stop", { names: ["db"] })), [
    ["stopped", "api", true],
    ["stopped", "db", false],
  ]);
});

Deno.test("fleet: a dependency that fails leaves its dependents blocked, saying on what; stopping a blocked server stops it", async () => {
  const f = fleetOf([server("db"), server("api", { dependsOn: ["db"] })]);
  f.world.spawnFails.add("db");
  await f.fleet.boot(() => Promise.resolve(), () => {});
  assertEquals(f.state("db"), "failed");
  assertEquals(f.state("api"), "blocked");
  assertEquals(f.row("api").blocked_by, "waiting for db (failed)");
  assertEquals(f.row("api").pid, undefined);
  assertEquals(told(await f.fleet.lifecycle("stop", { names: ["api"] })), [[
    "stopped",
    "api",
    false,
  ]]);
  assertEquals(f.state("api"), "stopped");
});

Deno.test("fleet: a blocked chain names each dependency's shown state down to the root cause", async () => {
  const f = fleetOf([
    server("db", { autostart: false, health: HEALTH }),
    server("api", { autostart: false, dependsOn: ["db"] }),
    server("web", { autostart: false, dependsOn: ["api"] }),
  ]);
  await f.fleet.boot(() => Promise.resolve(), () => {});
  assertEquals(told(await f.fleet.lifecycle("start", { names: ["web"] })), [
    ["started", "db", true],
    ["blocked", "api", true],
    ["blocked", "web", false],
  ]);
  assertEquals(f.row("web").blocked_by, "waiting for api (blocked: waiting for db (starting))");
  // A start of a blocked server whose dependencies are still down: still blocked.
  assertEquals(told(await f.fleet.lifecycle("start", { names: ["web"] })), [[
    "blocked",
    "web",
    false,
  ]]);
  f.world.ready("db");
  await waitFor("the chain up", () => f.state("web") === "running");
});

Deno.test("fleet: a restart of a server whose dependency is down stops it, and it waits blocked", async () => {
  const f = fleetOf([
    server("db", { autostart: false, health: HEALTH }),
    server("api", { autostart: false, dependsOn: ["db"] }),
  ]);
  await f.fleet.boot(() => Promise.resolve(), () => {});
  await f.fleet.lifecycle("start", { names: ["db"] });
  f.world.ready("db");
  assertEquals(told(await f.fleet.lifecycle("start", { names: ["api"] })), [[
    "started",
    "api",
    false,
  ]]);
  const first = f.fleet.registry.find("api")!.status.pid;
  await f.fleet.lifecycle("restart", { names: ["db"] });
  assertEquals(f.state("db"), "starting", "not ready again yet");
  assertEquals(told(await f.fleet.lifecycle("restart", { names: ["api"] })), [[
    "blocked",
    "api",
    false,
  ]]);
  assertEquals(f.fleet.registry.find("api")!.status.pid, null, `${first} stopped`);
  f.world.ready("db");
  await waitFor("api running again", () => f.state("api") === "running");
});

Deno.test("fleet: a reload of named files applies only theirs; `start: false` registers an added server stopped", async () => {
  let configs = [server("a"), server("b", { args: ["1"] })];
  const { fleet } = fleetOf(() => configs);
  const registry = fleet.registry;
  await fleet.boot(() => Promise.resolve(), () => {});
  // b changed on disk, c was added; only c is asked for, and not to start.
  configs = [server("a"), server("b", { args: ["2"] }), server("c")];
  const r = await fleet.reload({ names: ["c"], start: false });
  assertEquals([r.added, r.changed, r.removed, r.unchanged], [["c"], [], [], []]);
  assertEquals(registry.get("b").config.args, ["1"], "b's change waits for its own reload");
  assertEquals(registry.get("c").status.state, "stopped");
  // c's file removed: a reload of c alone removes it, and leaves b as it was.
  configs = [server("a"), server("b", { args: ["2"] })];
  const gone = await fleet.reload({ names: ["c"] });
  assertEquals(gone.removed, ["c"]);
  assertEquals(registry.find("c"), undefined);
  assertEquals(registry.get("b").config.args, ["1"]);
  // A whole reload then applies b's change.
  assertEquals((await fleet.reload()).changed, ["b"]);
  await fleet.shutdown();
});
