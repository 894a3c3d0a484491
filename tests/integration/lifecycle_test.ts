import { assert, assertEquals, assertMatch } from "../assert.ts";
import { alive, FIXTURES, freePort, groupMembers, Sandbox, waitFor } from "./harness.ts";
import type { ServerSummary, StatusDetail } from "../../lib/protocol/types.ts";
import { FAILURES } from "../../lib/protocol/failures.ts";

const sleeper = (port: number, extra = "") =>
  `command "sleep"\nargs "1000"\nport ${port}\n${extra}`;

async function summary(sb: Sandbox, name: string): Promise<ServerSummary> {
  const rows = await sb.call<ServerSummary[]>("list");
  const row = rows.find((r) => r.name === name);
  if (!row) throw new Error(`no ${name} in list`);
  return row;
}

Deno.test("daemon: boots, autostarts servers, lists them, and SIGTERM stops every child", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig("one", sleeper(freePort()));
  await sb.writeConfig("two", sleeper(freePort()));
  await sb.writeConfig("manual10", sleeper(freePort(), "autostart #false"));
  await sb.writeConfig("manual2", sleeper(freePort(), "autostart #false"));
  await sb.writeConfig("broken", `command "x"\nport "nine"`);
  const d = await sb.daemon();
  const rows = await waitFor("both autostart servers running", async () => {
    const r = await sb.call<ServerSummary[]>("list");
    return r.filter((x) => x.state === "running").length === 2 ? r : null;
  });
  assertEquals(rows.map((r) => [r.name, r.state]), [
    ["broken", "invalid"],
    ["manual2", "stopped"], // names sort as people count them
    ["manual10", "stopped"],
    ["one", "running"],
    ["two", "running"],
  ]);
  const pids = rows.filter((r) => r.pid).map((r) => r.pid!);
  assertEquals(pids.length, 2);
  for (const pid of pids) assert(await alive(pid));
  // Children never inherit the daemon's lock (or any of its files).
  for (const pid of pids) {
    for await (const fd of Deno.readDir(`/proc/${pid}/fd`)) {
      const target = await Deno.readLink(`/proc/${pid}/fd/${fd.name}`).catch(() => "");
      assert(!target.startsWith(sb.dir), `child ${pid} holds ${target}`);
    }
  }

  const cli = await sb.cli(["list"]);
  assertEquals(cli.code, 0);
  assertMatch(cli.stdout, /^NAME +STATE +PID +PORT +UPTIME +RESTARTS +CPU +MEM +HEALTH\n/);
  assertMatch(cli.stdout, /\none +running +\d+ +\d+ /);

  assertEquals(await d.stop(), 0);
  for (const pid of pids) assertEquals(await alive(pid), false, `pid ${pid} outlived the daemon`);
  assertEquals(
    await Deno.stat(sb.socket).then(() => true, () => false),
    false,
    "socket left behind",
  );
  assertEquals(
    await Deno.stat(`${sb.state}/xy.pid`).then(() => true, () => false),
    false,
    "pidfile left behind",
  );
});

Deno.test("daemon: stop, start and restart give a new pid and leave the old one gone", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig("svc", sleeper(freePort()));
  await sb.daemon();
  const first = await waitFor("svc running", async () => (await summary(sb, "svc")).pid);

  const stop = await sb.cli(["stop", "svc"]);
  assertEquals([stop.code, stop.stdout], [0, "stopped: svc\n"]);
  assertEquals(await alive(first), false);
  assertEquals((await summary(sb, "svc")).state, "stopped");
  const again = await sb.cli(["stop", "svc"]);
  assertEquals([again.code, again.stdout], [0, "not running: svc\n"]);

  const start = await sb.cli(["start", "svc", "--wait"]);
  assertEquals(start.code, 0, start.stderr);
  assertMatch(start.stdout, /started: svc/);
  const second = (await summary(sb, "svc")).pid!;
  assert(second !== first && (await alive(second)));
  const dup = await sb.cli(["start", "svc"]);
  assertEquals(dup.stdout, "already running: svc\n");

  const restart = await sb.cli(["restart", "svc"]);
  assertEquals([restart.code, restart.stdout], [0, "restarted: svc\n"]);
  const third = (await summary(sb, "svc")).pid!;
  assert(third !== second && (await alive(third)));
  assertEquals(await alive(second), false);
  assertEquals((await summary(sb, "svc")).restart_count, 0, "manual restarts are not counted");
});

Deno.test("daemon: a crash loop reaches failed with last_exit, and on-failure does not restart exit 0", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig(
    "crashy",
    `command "sh"\nargs "-c" "echo boom >&2; exit 3"\nport ${freePort()}\n` +
      `restart {\n backoff-initial "10ms"\n max-retries-per-minute 3\n}`,
  );
  await sb.writeConfig("clean", `command "true"\nport ${freePort()}`);
  await sb.daemon();
  const s = await waitFor("crashy failed", async () => {
    const st = await sb.call<StatusDetail>("status", { name: "crashy" });
    return st.state === "failed" ? st : null;
  });
  assertEquals(s.restart_count, 3);
  assertEquals(s.last_exit, 3);
  assertMatch(s.last_error!, /3 restarts within 60s/);
  assertEquals(s.stderr_tail.at(-1), "boom");
  assertEquals(s.transitions.at(-1)!.to, "failed");

  const clean = await waitFor("clean stopped after exiting 0", async () => {
    const st = await sb.call<StatusDetail>("status", { name: "clean" });
    return st.transitions.some((t) => t.to === "stopped") ? st : null;
  });
  assertEquals([clean.state, clean.restart_count, clean.last_exit], ["stopped", 0, 0]);

  const human = await sb.cli(["status", "crashy"]);
  assertMatch(human.stdout, /^crashy: failed\n/);
  assertMatch(human.stdout, /last stderr:\n {4}boom/);
});

Deno.test("daemon: stop leaves no process in the child's group, grandchildren included", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig("forker", `command "${FIXTURES}/forker.sh"\nport ${freePort()}`);
  await sb.daemon();
  const pid = await waitFor("forker running", async () => (await summary(sb, "forker")).pid);
  await waitFor("grandchildren forked", async () => (await groupMembers(pid)).length >= 3);
  const stop = await sb.cli(["stop", "forker"]);
  assertEquals(stop.code, 0, stop.stderr);
  assertEquals(await groupMembers(pid), []);
});

Deno.test("daemon: a leader that exits on its own has its group swept", async () => {
  await using sb = await Sandbox.create();
  // The leader leaves a background sleep behind and exits.
  await sb.writeConfig(
    "leaver",
    `command "sh"\nargs "-c" "sleep 1000 & echo left; exit 0"\nport ${freePort()}\nrestart { policy "never"; }`,
  );
  await sb.daemon();
  // The sweep shows as `stopping`, and the policy decides only once the group is gone.
  const s = await waitFor("leaver stopped", async () => {
    const st = await sb.call<StatusDetail>("status", { name: "leaver" });
    return st.transitions.some((t) => t.from === "stopping" && t.to === "stopped") ? st : null;
  });
  assertEquals(s.transitions.slice(-2).map((t) => [t.from, t.to, t.reason]), [
    ["running", "stopping", "exited with code 0; stopping what it left in its group"],
    ["stopping", "stopped", "exited with code 0 (policy never)"],
  ]);
  const spawned = Number(
    /spawned pid (\d+)/.exec(s.transitions.map((t) => t.reason).join(" "))![1],
  );
  assertEquals(await groupMembers(spawned), []);
});

Deno.test("daemon: a child that ignores SIGTERM is killed after its grace", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig(
    "stubborn",
    `command "${FIXTURES}/stubborn.sh"\nport ${freePort()}\nstop { grace "300ms"; }`,
  );
  await sb.daemon();
  const pid = await waitFor("stubborn running", async () => (await summary(sb, "stubborn")).pid);
  await waitFor(
    "its TERM trap set",
    async () =>
      (await Deno.readTextFile(`${sb.state}/logs/stubborn.log`)).includes("ignoring TERM"),
  );
  const t0 = Date.now();
  const stop = await sb.cli(["stop", "stubborn"]);
  assertEquals(stop.code, 0, stop.stderr);
  assert(Date.now() - t0 >= 300, "stopped before the grace ran out");
  assertEquals(await groupMembers(pid), []);
  const st = await sb.call<StatusDetail>("status", { name: "stubborn" });
  assertEquals(st.last_signal, "SIGKILL");
});

Deno.test("daemon: a missing binary answers SpawnFailed and the server is failed", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig(
    "ghost",
    `command "/nonexistent/xy-no-such-binary"\nport ${freePort()}\nautostart #false`,
  );
  await sb.writeConfig(
    "nodir",
    `command "sleep"\nargs "1"\nport ${freePort()}\nworking-dir "/nonexistent-dir"\nautostart #false`,
  );
  await sb.daemon();
  const c = await sb.rpc();
  try {
    const err = await c.call("start", { name: "ghost" }).then(() => null, (e) => e);
    assertEquals(err?.code, FAILURES.SpawnFailed.rpc);
    assertMatch(err.message, /ghost: command "\/nonexistent\/xy-no-such-binary" not found/);
    const st = await c.call("status", { name: "ghost" });
    assertEquals(st.state, "failed");
    const nodir = await c.call("start", { name: "nodir" }).then(() => null, (e) => e);
    assertMatch(nodir?.message ?? "", /working-dir "\/nonexistent-dir" does not exist/);
  } finally {
    await c.close();
  }
  const cli = await sb.cli(["start", "ghost"]);
  assertEquals(cli.code, 1);
  assertMatch(cli.stderr, /^xy: ghost: command .* not found/);
});

Deno.test("daemon: a taken port answers PortConflict naming the port and holder", async () => {
  await using sb = await Sandbox.create();
  const port = freePort();
  const holder = await sb.holdPort(port);
  await sb.writeConfig("clash", sleeper(port, "autostart #false"));
  await sb.daemon();
  const err = await sb.call("start", { name: "clash" }).then(() => null, (e) => e);
  assertEquals(err?.code, FAILURES.PortConflict.rpc);
  assertMatch(err.message, new RegExp(`port ${port} is already in use by pid ${holder.pid}`));
  assertEquals((await summary(sb, "clash")).state, "failed");
});

Deno.test("daemon: unknown names fail the whole request before any server is touched, naming one meant", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig("a", sleeper(freePort(), "autostart #false"));
  await sb.daemon();
  const err = await sb.call("start", { names: ["a", "nope"] }).then(() => null, (e) => e);
  assertEquals(err?.code, FAILURES.ServerNotFound.rpc);
  assertEquals((await summary(sb, "a")).state, "stopped");
  const cli = await sb.cli(["status", "nope"]);
  assertEquals([cli.code, cli.stderr], [1, `xy: no server named "nope"\n`]);
  await sb.writeConfig("search", sleeper(freePort(), "autostart #false"));
  await sb.cli(["reload"]);
  const typo = await sb.cli(["stop", "serach"]);
  assertEquals([typo.code, typo.stderr], [
    1,
    `xy: no server named "serach" (did you mean "search"?)\n`,
  ]);
});
