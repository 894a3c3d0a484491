import { assert, assertEquals, assertMatch } from "../assert.ts";
import { alive, freePort, groupMembers, MAIN, Sandbox, waitFor } from "./harness.ts";
import {
  PROTOCOL_VERSION,
  type ServerSummary,
  type StatusDetail,
} from "../../lib/protocol/types.ts";

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

Deno.test("daemon control: a background daemon runs in / with the documented environment, not the caller's shell", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig(
    "env",
    `command "sh"\nargs "-c" "echo cwd=$(pwd) path=\${PATH:+set} secret=\${SHELL_SECRET:-none} xy=\${XY_STATE_DIR:+set}; sleep 1000"\nport ${freePort()}`,
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "daemon", "start"],
    cwd: sb.dir,
    env: sb.env({ SHELL_SECRET: "from the caller" }),
  }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  const line = await waitFor("the server's line", async () => {
    const text = await Deno.readTextFile(`${sb.state}/logs/env.log`).catch(() => "");
    return /\[out\] (cwd=.*)/.exec(text)?.[1];
  });
  assertEquals(line, "cwd=/ path=set secret=none xy=set");
});

Deno.test("daemon control: xy daemon stop stops a daemon that speaks another protocol version", async () => {
  await using sb = await Sandbox.create();
  // A stand-in for an older daemon: it answers daemon_info with another version, and shutdown.
  const listener = Deno.listen({ transport: "unix", path: sb.socket });
  let shutdowns = 0;
  const serving = (async () => {
    for await (const conn of listener) {
      (async () => {
        const buf = new Uint8Array(4096);
        let text = "";
        while (true) {
          const n = await conn.read(buf).catch(() => null);
          if (n === null) break;
          text += new TextDecoder().decode(buf.subarray(0, n));
          let nl;
          while ((nl = text.indexOf("\n")) >= 0) {
            const req = JSON.parse(text.slice(0, nl));
            text = text.slice(nl + 1);
            if (req.method === "shutdown") shutdowns++;
            const result = req.method === "daemon_info"
              ? { version: "0.0.1", protocol_version: 999, pid: 4242, started_at: "", socket: "" }
              : {};
            await conn.write(
              new TextEncoder().encode(
                JSON.stringify({ jsonrpc: "2.0", id: req.id, result }) + "\n",
              ),
            ).catch(() => {});
          }
        }
        conn.close();
      })();
    }
  })();
  try {
    const list = await sb.cli(["list"]);
    assertEquals(list.code, 1);
    assertMatch(
      list.stderr,
      new RegExp(
        `speaks protocol 999, this xy speaks ${PROTOCOL_VERSION}: restart it with \`xy daemon stop\``,
      ),
    );
    const stop = await sb.cli(["daemon", "stop"]);
    assertEquals([stop.code, stop.stdout], [0, "stopped: pid 4242\n"]);
    assertEquals(shutdowns, 1);
  } finally {
    listener.close();
    await serving.catch(() => {});
  }
});
