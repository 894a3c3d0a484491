/**
 * Dependency order and blocked states, on real hosts and actors (inline) over
 * fake processes and a prober the test answers for.
 */
import { assertEquals } from "../assert.ts";
import { Control } from "../../lib/daemon/control.ts";
import { Registry } from "../../lib/daemon/registry.ts";
import type { HealthConfig, ServerConfig } from "../../lib/config/schema.ts";
import type { ProbeResult } from "../../lib/health/probe.ts";
import { fakeCommand, FakeSpawner } from "../supervisor/fakes.ts";
import { serverConfig } from "../supervisor/server_config.ts";
import { waitFor } from "../integration/harness.ts";

const HEALTH: HealthConfig = {
  kind: "tcp",
  intervalMs: 60_000,
  timeoutMs: 1000,
  retries: 3,
  startPeriodMs: 60_000,
};

/** A fleet whose probes pass for the servers in `ready` and fail for the others. */
async function fleet(configs: ServerConfig[]) {
  const logDir = await Deno.makeTempDir();
  const ready = new Set<string>();
  const byPort = new Map(configs.map((c) => [c.port, c.name]));
  const spawner = new FakeSpawner();
  const prober = (_h: HealthConfig, port: number): Promise<ProbeResult> =>
    Promise.resolve(
      ready.has(byPort.get(port)!)
        ? { status: "healthy", message: "ok", latencyMs: 1 }
        : { status: "failed", message: "connection refused", latencyMs: 0 },
    );
  const registry = new Registry({
    logDir,
    mode: "inline",
    log: () => {},
    ports: { spawner, prober, portGuard: () => Promise.resolve(null) },
    onStatus: (name) => control.changed(name),
  });
  const control: Control = new Control(registry, {
    configDir: "/nonexistent",
    log: () => {},
    load: () => Promise.resolve({ configs, invalid: [] }),
  });
  const state = (name: string) => control.list(Date.now()).find((r) => r.name === name)!.state;
  return {
    control,
    spawner,
    ready,
    state,
    async [Symbol.asyncDispose]() {
      await control.shutdown();
      await Deno.remove(logDir, { recursive: true });
    },
  };
}

const server = (name: string, port: number, extra: Partial<ServerConfig> = {}) =>
  serverConfig(name, fakeCommand({}), { port, ...extra });

Deno.test("orchestrator: at boot a dependent is blocked until its dependency is ready, then started", async () => {
  await using f = await fleet([
    server("db", 1, { health: HEALTH }),
    server("api", 2, { dependsOn: ["db"] }),
    server("web", 3, { dependsOn: ["api"] }),
  ]);
  await f.control.boot(() => Promise.resolve(), () => {});
  assertEquals([f.state("db"), f.state("api"), f.state("web")], ["starting", "blocked", "blocked"]);
  const api = (await f.control.status("api")).waiting_for;
  assertEquals(api, [{ name: "db", state: "starting" }]);
  assertEquals(f.spawner.processes.length, 1, "only db has a process");
  f.ready.add("db");
  await waitFor(
    "the chain up",
    () =>
      f.state("db") === "running" && f.state("api") === "running" && f.state("web") === "running",
  );
  assertEquals(f.spawner.processes.length, 3);
});

Deno.test("orchestrator: from the moment a boot starts, dependents of an earlier wave show blocked, not stopped", async () => {
  await using f = await fleet([
    server("db", 1, { health: HEALTH }),
    server("api", 2, { dependsOn: ["db"] }),
    server("web", 3, { dependsOn: ["api"] }),
  ]);
  const loaded = Promise.withResolvers<void>();
  const reaped = Promise.withResolvers<void>();
  const booting = f.control.boot(() => reaped.promise, () => loaded.resolve());
  // The configs are loaded, and an earlier daemon's leftovers are being reaped: nothing starts yet.
  await loaded.promise;
  assertEquals([f.state("db"), f.state("api"), f.state("web")], ["stopped", "stopped", "stopped"]);
  // The start is under way: db's wave has not answered yet.
  reaped.resolve();
  await waitFor("db's start under way", () => f.state("db") === "starting");
  assertEquals([f.state("db"), f.state("api"), f.state("web")], ["starting", "blocked", "blocked"]);
  await booting;
  assertEquals([f.state("db"), f.state("api"), f.state("web")], ["starting", "blocked", "blocked"]);
});

Deno.test("orchestrator: starting a server starts its dependencies; stopping one stops its dependents first", async () => {
  await using f = await fleet([
    server("db", 1, { autostart: false }),
    server("api", 2, { autostart: false, dependsOn: ["db"] }),
    server("lone", 3, { autostart: false }),
  ]);
  await f.control.boot(() => Promise.resolve(), () => {});
  const started = await f.control.lifecycle("start", { names: ["api"] });
  assertEquals(
    started.map((o) => ["result" in o ? o.result : "error", o.name, o.cascade ?? false]),
    [
      ["started", "db", true],
      ["started", "api", false],
    ],
  );
  assertEquals(f.state("lone"), "stopped");
  const stopped = await f.control.lifecycle("stop", { names: ["db"] });
  assertEquals(
    stopped.map((o) => ["result" in o ? o.result : "error", o.name, o.cascade ?? false]),
    [
      ["stopped", "api", true],
      ["stopped", "db", false],
    ],
  );
});

Deno.test("orchestrator: a dependency that fails leaves its dependents blocked, saying on what", async () => {
  await using f = await fleet([
    serverConfig("db", { command: "/nonexistent/db", args: [] }, { port: 1 }),
    server("api", 2, { dependsOn: ["db"] }),
  ]);
  await f.control.boot(() => Promise.resolve(), () => {});
  await waitFor("db failed", () => f.state("db") === "failed");
  assertEquals(f.state("api"), "blocked");
  const s = await f.control.status("api");
  assertEquals([s.blocked_by, s.pid], ["waiting for db (failed)", undefined]);
  // Stopping a blocked server unblocks it: it is stopped.
  const out = await f.control.lifecycle("stop", { names: ["api"] });
  assertEquals(out.map((o) => "result" in o && o.result), ["stopped"]);
  assertEquals(f.state("api"), "stopped");
});
