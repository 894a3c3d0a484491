import { assert, assertEquals, assertMatch } from "../assert.ts";
import { alive, freePort, groupMembers, Sandbox, waitFor } from "./harness.ts";
import type { ServerSummary, StatusDetail } from "../../lib/rpc/types.ts";

Deno.test("daemon control: start twice leaves one daemon, status reports it, stop leaves no child", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig("a", `command "sleep"\nargs "1000"\nport ${freePort()}`);
  const first = await sb.cli(["daemon", "start"]);
  assertEquals(first.code, 0, first.stderr);
  const pid = Number(/^started: pid (\d+), socket .*, log .*daemon\.log\n$/.exec(first.stdout)![1]);
  const second = await sb.cli(["daemon", "start"]);
  assertEquals([second.code, second.stdout], [
    0,
    `already running: pid ${pid}, socket ${sb.socket}\n`,
  ]);
  const status = await sb.cli(["daemon", "status"]);
  assertMatch(
    status.stdout,
    new RegExp(`^running: pid ${pid}, up \\S+, xy \\d+\\.\\d+\\.\\d+, socket `),
  );
  const child = await waitFor(
    "a running",
    async () => (await sb.call<ServerSummary[]>("list"))[0]?.pid,
  );
  const stop = await sb.cli(["daemon", "stop"]);
  assertEquals([stop.code, stop.stdout], [0, `stopped: pid ${pid}\n`]);
  assertEquals(await alive(pid), false);
  assertEquals(await groupMembers(child), []);
  const after = await sb.cli(["daemon", "stop"]);
  assertEquals([after.code, after.stdout], [0, "not running\n"]);
});

Deno.test("daemon control: status names a stale socket and pidfile; a failed background start prints the log tail", async () => {
  await using sb = await Sandbox.create();
  await Deno.mkdir(sb.state, { recursive: true });
  await Deno.writeTextFile(sb.socket, "");
  await Deno.writeTextFile(`${sb.state}/xy.pid`, "999999\n");
  const status = await sb.cli(["daemon", "status"]);
  assertEquals(status.code, 2);
  assertEquals(
    status.stdout,
    `stopped (stale socket ${sb.socket}, stale pidfile ${sb.state}/xy.pid)\n`,
  );
  // A config dir that cannot be created makes the background daemon fail: its log says why.
  const blocker = `${sb.dir}/not-a-dir`;
  await Deno.writeTextFile(blocker, "file");
  const start = await sb.cli(["daemon", "start"], { XY_CONFIG_DIR: `${blocker}/servers` });
  assertEquals(start.code, 1);
  assertMatch(
    start.stderr,
    /^xy: the daemon did not start; its log \(.*daemon\.log\) ends:\n.*ERROR daemon cannot start error=.*not-a-dir/,
  );
});

Deno.test("reload: a server waiting out its backoff is replaced without a double spawn", async () => {
  await using sb = await Sandbox.create();
  const port = freePort();
  await sb.writeConfig(
    "flappy",
    `command "false"\nport ${port}\nrestart { backoff-initial "30s"; }`,
  );
  await sb.daemon();
  await waitFor(
    "flappy in backoff",
    async () => (await sb.call<StatusDetail>("status", { name: "flappy" })).state === "restarting",
  );
  await sb.writeConfig("flappy", `command "sleep"\nargs "1000"\nport ${port}`);
  const r = await sb.cli(["reload"]);
  assertEquals(r.stdout, "added: -\nremoved: -\nchanged: flappy\nunchanged: -\n");
  const s = await waitFor("flappy running the new command", async () => {
    const st = await sb.call<StatusDetail>("status", { name: "flappy" });
    return st.state === "running" ? st : null;
  });
  assertEquals(s.transitions.filter((t) => t.to === "starting").length, 1);
  assertEquals(s.command, "sleep");
  assert(await alive(s.pid!));
});
