import { assert, assertEquals, assertMatch } from "../assert.ts";
import { freePort, MAIN, Sandbox, waitFor } from "./harness.ts";
import { type DaemonInfo, PROTOCOL_VERSION } from "../../lib/protocol/types.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Sends raw bytes and reads `n` response lines (or until the daemon closes). */
async function raw(socket: string, bytes: Uint8Array | string, n: number): Promise<unknown[]> {
  const conn = await Deno.connect({ transport: "unix", path: socket });
  try {
    const data = typeof bytes === "string" ? enc.encode(bytes) : bytes;
    let off = 0;
    while (off < data.length) off += await conn.write(data.subarray(off));
    let text = "";
    const buf = new Uint8Array(65536);
    while (text.split("\n").length - 1 < n) {
      const r = await conn.read(buf);
      if (r === null) break;
      text += dec.decode(buf.subarray(0, r));
    }
    return text.split("\n").filter((l) => l).map((l) => JSON.parse(l));
  } finally {
    conn.close();
  }
}

Deno.test("rpc: garbage of every kind gets its JSON-RPC error and the daemon keeps answering", async () => {
  await using sb = await Sandbox.create();
  await sb.daemon();
  const cases: [string, unknown][] = [
    ["not json\n", {
      jsonrpc: "2.0",
      id: null,
      error: { code: -32700, message: "parse error: invalid JSON" },
    }],
    ["42\n", { code: -32600 }],
    ['"str"\n', { code: -32600 }],
    ["null\n", { code: -32600 }],
    ['{"jsonrpc":"1.0","id":1,"method":"list"}\n', { code: -32600, id: 1 }],
    ['{"jsonrpc":"2.0","id":2}\n', { code: -32600, id: 2 }],
    ['{"jsonrpc":"2.0","id":{},"method":"list"}\n', { code: -32600 }],
    ['{"jsonrpc":"2.0","id":3,"method":"nope"}\n', { code: -32601, id: 3 }],
    ['{"jsonrpc":"2.0","id":4,"method":"status","params":{"name":"Bad Name"}}\n', {
      code: -32602,
      id: 4,
    }],
    ['{"jsonrpc":"2.0","id":5,"method":"status","params":7}\n', { code: -32602, id: 5 }],
    ['{"jsonrpc":"2.0","id":6,"method":"start","params":{}}\n', { code: -32602, id: 6 }],
    ['{"jsonrpc":"2.0","id":7,"method":"status","params":{"name":"ghost"}}\n', {
      code: -32001,
      id: 7,
    }],
    ["[]\n", { code: -32600 }],
  ];
  for (const [line, want] of cases) {
    const [got] = await raw(sb.socket, line, 1) as Record<string, unknown>[];
    const expected = want as Record<string, unknown>;
    if ("jsonrpc" in expected) assertEquals(got, expected);
    else {
      assertEquals((got!.error as { code: number }).code, expected.code, `for ${line}`);
      if ("id" in expected) assertEquals(got!.id, expected.id);
    }
  }
  // A batch: answers for requests only, notifications (no id) ignored.
  const [batch] = await raw(
    sb.socket,
    '[{"jsonrpc":"2.0","id":1,"method":"list"},{"jsonrpc":"2.0","method":"list"},{"jsonrpc":"2.0","id":2,"method":"x"}]\n',
    1,
  ) as unknown[][];
  assertEquals(batch!.length, 2);
  // A notification alone gets no answer; the next request on the line does.
  const [after] = await raw(
    sb.socket,
    '{"jsonrpc":"2.0","method":"shutdown"}\n{"jsonrpc":"2.0","id":9,"method":"list"}\n',
    1,
  ) as Record<string, unknown>[];
  assertEquals(after!.id, 9);
  // Over 1 MiB: an error, then the connection is closed.
  const big = `{"jsonrpc":"2.0","id":1,"method":"list","params":{"x":"${
    "a".repeat(1024 * 1024)
  }"}}\n`;
  const answers = await raw(sb.socket, big, 2) as Record<string, { code: number }>[];
  assertEquals(answers.length, 1);
  assertEquals(answers[0]!.error!.code, -32600);
  // Still alive.
  const info = await sb.call<DaemonInfo>("daemon_info");
  assertEquals(info.protocol_version, PROTOCOL_VERSION);
});

Deno.test("rpc: 200 concurrent clients are all answered", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig("a", `command "sleep"\nargs "1000"\nport ${freePort()}\nautostart #false`);
  await sb.daemon();
  // Connections beyond 256 are refused, so 200 at once must all be served.
  const results = await Promise.all(Array.from({ length: 200 }, () => sb.call<unknown[]>("list")));
  assertEquals(results.filter((r) => Array.isArray(r) && r.length === 1).length, 200);
});

Deno.test("daemon: twenty daemons started at once leave exactly one", async () => {
  await using sb = await Sandbox.create();
  const children = Array.from({ length: 20 }, () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "daemon"],
      env: sb.env(),
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn());
  children.forEach((c) => sb.track(c));
  const codes: (number | null)[] = children.map(() => null);
  children.forEach((c, i) => c.status.then((s) => codes[i] = s.code));
  const outcomes = await waitFor(
    "19 daemons to give up",
    () => codes.filter((c) => c !== null).length >= 19 ? codes : null,
    60_000,
  );
  assertEquals(outcomes.filter((c) => c === 1).length, 19);
  const info = await sb.call<DaemonInfo>("daemon_info");
  const survivor = children.find((c) => c.pid === info.pid);
  assert(survivor, "the answering daemon is one of the twenty");
  const loser = children.find((c) => c !== survivor)!;
  const text = dec.decode(await new Response(loser.stderr).arrayBuffer());
  assertMatch(text, new RegExp(`^xy: a daemon is already running \\(pid ${info.pid}\\)`));
  for (const c of children) if (c !== survivor && c !== loser) await c.stderr.cancel();
  survivor.kill("SIGTERM");
  assertEquals((await survivor.status).code, 0);
  await survivor.stderr.cancel().catch(() => {});
});

/** Leaves a socket file at `path` that nobody listens on, as a daemon killed by SIGKILL does. */
async function staleSocket(path: string): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `Deno.listen({ transport: "unix", path: ${JSON.stringify(path)} }); console.log("up"); ` +
      `setInterval(() => {}, 1000);`,
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.getReader();
  await reader.read();
  child.kill("SIGKILL");
  await child.status;
  reader.releaseLock();
  await child.stdout.cancel();
  assert((await Deno.lstat(path)).isSocket, "a stale socket is left behind");
}

Deno.test("daemon: a stale socket file and stale pidfile do not block a start", async () => {
  await using sb = await Sandbox.create();
  await Deno.mkdir(sb.state, { recursive: true });
  await staleSocket(sb.socket);
  await Deno.writeTextFile(`${sb.state}/xy.pid`, "999999\n");
  const d = await sb.daemon();
  assertEquals((await Deno.readTextFile(`${sb.state}/xy.pid`)).trim(), String(d.pid));
  const st = await Deno.lstat(sb.socket);
  assert(st.isSocket, "the stale socket was replaced by the live one");
});

Deno.test("daemon: a regular file at the socket path survives, and the daemon exits 1 saying why", async () => {
  await using sb = await Sandbox.create();
  await Deno.writeTextFile(sb.socket, "my notes");
  const r = await sb.cli(["daemon"]);
  assertEquals(r.code, 1);
  assertMatch(r.stderr, /^xy: refusing to replace .*xy\.sock: it is not a socket/);
  assertEquals(await Deno.readTextFile(sb.socket), "my notes");
});

Deno.test("daemon: a socket in a directory others may write to is refused", async () => {
  await using sb = await Sandbox.create();
  const open = `${sb.dir}/shared`;
  await Deno.mkdir(open);
  await Deno.chmod(open, 0o777);
  const r = await sb.cli(["daemon"], { XY_SOCKET: `${open}/xy.sock` });
  assertEquals(r.code, 1);
  assertMatch(r.stderr, /^xy: socket directory .*shared is writable by others \(mode 0777\)/);
});

Deno.test("daemon: socket is 0600 in a 0700 dir, and a too-long socket path is a clear error", async () => {
  await using sb = await Sandbox.create();
  const socket = `${sb.dir}/run/xy/xy.sock`;
  const d = await sb.daemon({ XY_SOCKET: socket });
  assertEquals((await Deno.stat(socket)).mode! & 0o777, 0o600);
  assertEquals((await Deno.stat(`${sb.dir}/run/xy`)).mode! & 0o777, 0o700);
  assertEquals((await Deno.stat(sb.state)).mode! & 0o777, 0o700);
  assertEquals((await Deno.stat(`${sb.state}/logs`)).mode! & 0o777, 0o700);
  assertEquals((await Deno.stat(sb.config)).isDirectory, true);
  assertEquals(await d.stop(), 0);

  const long = `${sb.dir}/${"x".repeat(120)}.sock`;
  const r = await sb.cli(["daemon"], { XY_SOCKET: long });
  assertEquals(r.code, 1);
  assertMatch(
    r.stderr,
    /^xy: socket path is \d+ bytes, longer than this platform's limit of 107: /,
  );
});

Deno.test("cli: concurrent first calls start exactly one background daemon; XY_NO_AUTOSTART turns it off", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig("a", `command "sleep"\nargs "1000"\nport ${freePort()}`);
  const off = await sb.cli(["list"], { XY_NO_AUTOSTART: "1" });
  assertEquals(off.code, 2);
  assertMatch(off.stderr, /^xy: no daemon is listening on /);

  const runs = await Promise.all(Array.from({ length: 20 }, () => sb.cli(["list"])));
  for (const r of runs) assertEquals(r.code, 0, r.stderr);
  const info = await sb.call<DaemonInfo>("daemon_info");
  const daemons = await countDaemons(sb.socket);
  assertEquals(daemons, [info.pid]);
  const log = await Deno.readTextFile(`${sb.state}/daemon.log`);
  assertMatch(log, /daemon started/);

  // With nothing configured, the list says where servers come from.
  await Deno.remove(`${sb.config}/a.kdl`);
  await sb.cli(["reload"]);
  const empty = await sb.cli(["list"]);
  assertEquals(
    empty.stdout,
    `no servers configured: add a <name>.kdl to ${sb.config}, with a command and a port\n`,
  );

  const stop = await sb.cli(["daemon", "stop"]);
  assertEquals(stop.code, 0, stop.stderr);
  assertEquals(stop.stdout, `stopped: pid ${info.pid}\n`);
  assertEquals(await countDaemons(sb.socket), []);
  const status = await sb.cli(["daemon", "status"]);
  assertEquals([status.code, status.stdout], [2, "stopped\n"]);
});

/** Pids of live `main.ts daemon` processes for `socket` (read from /proc). */
async function countDaemons(socket: string): Promise<number[]> {
  const out: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const cmd = (await Deno.readTextFile(`/proc/${e.name}/cmdline`)).split("\0");
      const env = await Deno.readTextFile(`/proc/${e.name}/environ`).catch(() => "");
      const stat = await Deno.readTextFile(`/proc/${e.name}/stat`);
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      if (
        cmd.includes("daemon") && cmd.some((a) => a.endsWith("main.ts")) &&
        (cmd.includes(socket) || env.includes(`XY_SOCKET=${socket}\0`))
      ) {
        out.push(Number(e.name));
      }
    } catch {
      // Gone or not ours.
    }
  }
  return out;
}

Deno.test("cli: usage errors exit 64, config check exits 3 with every error", async () => {
  await using sb = await Sandbox.create();
  const usage = await sb.cli(["start"]);
  assertEquals(usage.code, 64);
  assertMatch(usage.stderr, /^xy: start: give server names or --all\n$/);
  const unknown = await sb.cli(["frobnicate"]);
  assertEquals(unknown.code, 64);
  await sb.writeConfig("good", `command "x"\nport 1`);
  await sb.writeConfig("bad", `command "x"\nport "nine"\nrestart { polcy "always"; }`);
  await sb.writeConfig("dup", `command "x"\nport 1`);
  await Deno.writeTextFile(`${sb.config}/notes.txt`, "ignored");
  const check = await sb.cli(["config", "check"]);
  assertEquals(check.code, 3);
  const lines = check.stderr.trim().split("\n");
  assertEquals(lines.length, 4, check.stderr);
  assertMatch(lines[0]!, /bad\.kdl:2:6: port must be a number/);
  assertMatch(
    lines[1]!,
    /bad\.kdl:3:11: unknown key "polcy" in restart \(did you mean "policy"\?\)/,
  );
  assertMatch(lines[2]!, /good\.kdl:2:6: port 1 is already used by server "dup" \(.*dup\.kdl\)/);
  assertEquals(lines[3], "xy: 2 of 3 config files invalid");
  await Deno.remove(`${sb.config}/bad.kdl`);
  await Deno.remove(`${sb.config}/dup.kdl`);
  const ok = await sb.cli(["config", "check"]);
  assertEquals([ok.code, ok.stdout], [0, `1 server OK in ${sb.config}\n`]);
  const version = await sb.cli(["--version"]);
  assertMatch(version.stdout, /^xy \d+\.\d+\.\d+\n$/);
  const help = await sb.cli(["status", "--help"]);
  assertMatch(help.stdout, /^Usage: xy status <name> \[--json\]/);
});
