/**
 * One actor suite, run against the fake spawner and the real one: what the
 * supervisor does must not depend on which processes it drives.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "../assert.ts";
import { DEFAULTS, type ServerConfig } from "../../lib/config/schema.ts";
import { denoSpawner, type Spawner } from "../../lib/process/spawner.ts";
import { ServerHost } from "../../lib/supervisor/hosting/host.ts";
import type { PortGuard } from "../../lib/process/port.ts";
import type { LogTail } from "../../lib/logs/capture.ts";
import { type Behaviour, FakeClock, fakeCommand, FakeSpawner } from "./fakes.ts";
import { serverConfig } from "./server_config.ts";
import { waitFor } from "../integration/harness.ts";

/** A kind of process the suite can drive. */
interface World {
  readonly name: string;
  spawner(): Spawner;
  command(b: Behaviour): { command: string; args: string[] };
  /** Kills the leader alone, behind the supervisor's back. */
  crash(spawner: Spawner, pid: number): void;
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

const WORLDS: World[] = [
  {
    name: "fake",
    spawner: () => new FakeSpawner(),
    command: fakeCommand,
    crash: (s, pid) => (s as FakeSpawner).crash(pid),
  },
  {
    name: "real",
    spawner: () => denoSpawner,
    command: (b) => {
      const script = [
        b.ignoreTerm ? "trap '' TERM" : "",
        b.say ? `echo ${quote(b.say)}` : "",
        b.complain ? `echo ${quote(b.complain)} >&2` : "",
        b.leaveChild ? "sleep 1000 &" : "",
        b.exitCode === undefined ? "exec sleep 1000" : `exit ${b.exitCode}`,
      ].filter(Boolean).join("\n");
      return { command: "sh", args: ["-c", script] };
    },
    crash: (_s, pid) => Deno.kill(pid, "SIGKILL"),
  },
];

/** The lines of a `logs` answer that came from the ring (none when it names files). */
const ringLines = (s: LogTail) => "lines" in s ? s.lines.map((l) => l.line) : [];

const freePort: PortGuard = () => Promise.resolve(null);

function config(world: World, b: Behaviour, extra: Partial<ServerConfig> = {}): ServerConfig {
  return serverConfig("svc", world.command(b), { stop: { graceMs: 300 }, ...extra });
}

/** Runs `body` with an inline host of `config`, then shuts it down and cleans up. */
async function withHost(
  spawner: Spawner,
  config: ServerConfig,
  body: (host: ServerHost, logDir: string) => Promise<void>,
  portGuard: PortGuard = freePort,
) {
  const logDir = await Deno.makeTempDir();
  const host = new ServerHost(config, { logDir, mode: "inline", ports: { spawner, portGuard } });
  try {
    await body(host, logDir);
  } finally {
    await host.request({ kind: "shutdown" }).catch(() => {});
    host.close();
    await Deno.remove(logDir, { recursive: true });
  }
}

for (const world of WORLDS) {
  const t = (name: string, fn: () => Promise<void>) =>
    Deno.test(`actor (${world.name} spawner): ${name}`, fn);

  t(
    "start runs the command, its output reaches the ring and the file, stop empties the group",
    async () => {
      const spawner = world.spawner();
      await withHost(spawner, config(world, { say: "hello" }), async (host, logDir) => {
        assertEquals(await host.request({ kind: "start" }), "started");
        assertEquals(await host.request({ kind: "start" }), "already_running");
        const pid = host.status.pid!;
        assert(await spawner.groupAlive(pid));
        await waitFor(
          "the line in the ring",
          async () => ringLines(await host.request({ kind: "logs" })).includes("hello"),
        );
        assertEquals(await host.request({ kind: "stop" }), "stopped");
        assertEquals(await spawner.groupAlive(pid), false);
        assertEquals(host.status.state, "stopped");
        assertEquals(await host.request({ kind: "stop" }), "not_running");
        assertMatch(await Deno.readTextFile(`${logDir}/svc.log`), / \[out\] hello\n/);
      });
    },
  );

  t("a crash is restarted after the backoff and counted", async () => {
    const spawner = world.spawner();
    await withHost(spawner, config(world, {}), async (host) => {
      await host.request({ kind: "start" });
      const pid = host.status.pid!;
      world.crash(spawner, pid);
      const back = await waitFor("a new run", () => {
        const s = host.status;
        return s.state === "running" && s.pid !== pid ? s : null;
      });
      assertEquals(back.restartCount, 1);
      assertEquals(back.lastExit?.signal, "SIGKILL");
    });
  });

  t("a group deaf to SIGTERM is killed at the end of the grace", async () => {
    const spawner = world.spawner();
    await withHost(spawner, config(world, { ignoreTerm: true, say: "up" }), async (host) => {
      await host.request({ kind: "start" });
      const pid = host.status.pid!;
      // The trap is set before the line is printed.
      await waitFor(
        "its trap set",
        async () => ringLines(await host.request({ kind: "logs" })).includes("up"),
      );
      const t0 = Date.now();
      assertEquals(await host.request({ kind: "stop" }), "stopped");
      assert(Date.now() - t0 >= 300, "stopped before the grace ran out");
      assertEquals(host.status.lastExit?.signal, "SIGKILL");
      assertEquals(await spawner.groupAlive(pid), false);
    });
  });

  t("a leader that leaves a grandchild is swept before the policy decides", async () => {
    const spawner = world.spawner();
    const never = { ...DEFAULTS.restart, policy: "never" as const };
    await withHost(
      spawner,
      config(world, { leaveChild: true, exitCode: 0 }, { restart: never }),
      async (host) => {
        await host.request({ kind: "start" });
        const pid = host.status.pid!;
        const s = await waitFor(
          "stopped",
          () => host.status.state === "stopped" ? host.status : null,
        );
        assertEquals(s.transitions.slice(-2).map((x) => [x.from, x.to]), [
          ["running", "stopping"],
          ["stopping", "stopped"],
        ]);
        assertEquals(await spawner.groupAlive(pid), false);
      },
    );
  });

  t("a command that cannot start answers SpawnFailed and leaves the server failed", async () => {
    const spawner = world.spawner();
    const missing = { command: "/nonexistent/xy-missing", args: [] };
    await withHost(spawner, { ...config(world, {}), ...missing }, async (host) => {
      const err = await assertRejects(() => host.request({ kind: "start" }), /not found/);
      assertEquals((err as { failure?: string }).failure, "SpawnFailed");
      assertEquals([host.status.state, host.status.failure], ["failed", "spawn_failed"]);
    });
  });

  t("a taken port answers PortConflict with the guard's reason", async () => {
    const spawner = world.spawner();
    const taken: PortGuard = (port) => Promise.resolve(`port ${port} is already in use by pid 7`);
    await withHost(spawner, config(world, {}), async (host) => {
      const err = await assertRejects(() => host.request({ kind: "start" }), /port 1 is already/);
      assertEquals((err as { failure?: string }).failure, "PortConflict");
      assertEquals(host.status.failure, "port_conflict");
    }, taken);
  });

  t("shutdown stops a running server and answers once it is gone", async () => {
    const spawner = world.spawner();
    await withHost(spawner, config(world, {}), async (host) => {
      await host.request({ kind: "start" });
      const pid = host.status.pid!;
      assertEquals(await host.request({ kind: "shutdown" }), "stopped");
      assertEquals(await spawner.groupAlive(pid), false);
      assertEquals(host.status.state, "stopped");
    });
  });
}

/** An inline host on the fake spawner and a fake clock. */
async function fakeTimeHost(b: Behaviour, extra: Partial<ServerConfig> = {}) {
  const clock = new FakeClock();
  const spawner = new FakeSpawner();
  const logDir = await Deno.makeTempDir();
  const host = new ServerHost(config(WORLDS[0]!, b, extra), {
    logDir,
    mode: "inline",
    ports: { spawner, clock, portGuard: freePort },
  });
  return {
    clock,
    spawner,
    host,
    async [Symbol.asyncDispose]() {
      host.close();
      await Deno.remove(logDir, { recursive: true });
    },
  };
}

Deno.test("actor (fake clock): SIGKILL goes out when the grace ends on the injected clock, not before", async () => {
  await using h = await fakeTimeHost({ ignoreTerm: true });
  const { host, spawner, clock } = h;
  await host.request({ kind: "start" });
  const pid = host.status.pid!;
  const stopped = host.request({ kind: "stop" });
  await waitFor("SIGTERM sent", () => spawner.signals.length === 1);
  assertEquals(host.status.state, "stopping");
  clock.advance(299);
  assertEquals(spawner.signals, [{ pgid: pid, signal: "SIGTERM" }]);
  clock.advance(1);
  assertEquals(await stopped, "stopped");
  assertEquals(spawner.signals, [
    { pgid: pid, signal: "SIGTERM" },
    { pgid: pid, signal: "SIGKILL" },
  ]);
  assertEquals(host.status.lastExit?.signal, "SIGKILL");
});

Deno.test("actor (fake clock): a crashed server waits out its backoff on the injected clock", async () => {
  await using h = await fakeTimeHost({}, {
    restart: { ...DEFAULTS.restart, backoffInitialMs: 5_000 },
  });
  const { host, spawner, clock } = h;
  await host.request({ kind: "start" });
  spawner.crash(host.status.pid!);
  const waiting = await waitFor(
    "restarting",
    () => host.status.state === "restarting" ? host.status : null,
  );
  assertEquals(waiting.retryAt, clock.now() + 5_000);
  clock.advance(4_999);
  assertEquals([host.status.state, spawner.processes.length], ["restarting", 1]);
  clock.advance(1);
  await waitFor("the second run", () => host.status.state === "running");
  assertEquals(spawner.processes.length, 2);
  await host.request({ kind: "shutdown" });
});

Deno.test("actor: after its shutdown it starts nothing again", async () => {
  const spawner = new FakeSpawner();
  await withHost(spawner, config(WORLDS[0]!, {}), async (host) => {
    // Once its actor exists: a shutdown before that closes the host without one (host_test).
    await host.request({ kind: "status" });
    assertEquals(await host.request({ kind: "shutdown" }), "stopped");
    const err = await assertRejects(() => host.request({ kind: "start" }), /shut down/);
    assertEquals((err as { failure?: string }).failure, "Internal");
    await assertRejects(() => host.request({ kind: "restart" }), /shut down/);
    assertEquals(await host.request({ kind: "stop" }), "not_running");
    assertEquals(spawner.processes.length, 0);
  });
});

Deno.test("host: a request its actor does not answer times out with a clear error", async () => {
  const logDir = await Deno.makeTempDir();
  const never: PortGuard = () => new Promise(() => {});
  const host = new ServerHost(config(WORLDS[0]!, {}, { stop: { graceMs: 0 } }), {
    logDir,
    mode: "inline",
    ports: { spawner: new FakeSpawner(), portGuard: never },
    timeouts: { queryMs: 50, marginMs: 50 },
  });
  try {
    const err = await assertRejects(
      () => host.request({ kind: "start" }),
      /server "svc" did not answer "start" within \ds/,
    );
    assertEquals((err as { failure?: string }).failure, "Internal");
    // The mailbox is stuck behind the port check: a status times out too.
    await assertRejects(() => host.request({ kind: "status" }), /did not answer "status"/);
  } finally {
    host.close();
    await Deno.remove(logDir, { recursive: true });
  }
});
