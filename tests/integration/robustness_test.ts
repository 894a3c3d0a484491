/**
 * The daemon under concurrent control, slow clients and odd input: each case
 * here was once a way to run a server twice, leave a child behind, hang a
 * command or lose output silently.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { alive, FIXTURES, freePort, MAIN, Sandbox, waitFor } from "./harness.ts";
import { processStartTime, writeRecord } from "../../lib/process/records.ts";
import type { ServerSummary, StatusDetail } from "../../lib/protocol/types.ts";

/** Pids of live processes whose command line contains `token`. */
async function processesWith(token: string): Promise<number[]> {
  const out: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const cmdline = await Deno.readTextFile(`/proc/${e.name}/cmdline`).catch(() => "");
    const stat = await Deno.readTextFile(`/proc/${e.name}/stat`).catch(() => "");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (cmdline.split("\0").includes(token) && state !== "Z") out.push(Number(e.name));
  }
  return out;
}

const token = () => `xy-test-${crypto.randomUUID().slice(0, 8)}`;
const sleepToken = () => `1000.${String(Math.floor(Math.random() * 1e9)).padStart(9, "0")}`;

Deno.test("robustness: SIGHUPs during a slow boot leave one instance of each server", async () => {
  await using sb = await Sandbox.create();
  // A group left by a killed daemon that takes its whole grace to stop: boot is slow.
  const orphan = new Deno.Command(`${FIXTURES}/stubborn.sh`, {
    detached: true,
    stdout: "null",
    stderr: "null",
  }).spawn();
  sb.track(orphan);
  const startTime = await waitFor("the orphan started", () => processStartTime(orphan.pid));
  writeRecord(`${sb.state}/pids`, {
    name: "old",
    pid: orphan.pid,
    pgid: orphan.pid,
    start_time: startTime,
    grace_ms: 1500,
  });
  // A duration of its own tells each server's `sleep` apart from every other process.
  const tokens = { a: sleepToken(), b: sleepToken() };
  for (const [name, t] of Object.entries(tokens)) {
    await sb.writeConfig(name, `command "sleep"\nargs "${t}"\nport ${freePort()}`);
  }
  const d = await sb.daemon();
  for (let i = 0; i < 3; i++) Deno.kill(d.pid, "SIGHUP");
  await waitFor("both running after the reap", async () => {
    const rows = await sb.call<ServerSummary[]>("list");
    return rows.filter((r) => r.state === "running").length === 2;
  });
  // Let every queued reload run, then count.
  await sb.cli(["reload"]);
  for (const t of Object.values(tokens)) assertEquals((await processesWith(t)).length, 1, t);
  assertEquals(await alive(orphan.pid), false, "the orphan was reaped");
  assertMatch(d.log(), /SIGHUP received: reloading/);
});

Deno.test("robustness: a shutdown during a reload leaves no child behind", async () => {
  await using sb = await Sandbox.create();
  const t = token();
  const config = (extra: string) =>
    `command "${FIXTURES}/stubborn.sh"\nargs "${t}"\nport ${freePort()}\nstop { grace "1s"; }\n${extra}`;
  await sb.writeConfig("slow", config(""));
  const d = await sb.daemon();
  const first = await waitFor("slow running", async () => {
    const s = await sb.call<StatusDetail>("status", { name: "slow" });
    return s.state === "running" ? s.pid : null;
  });
  await sb.writeConfig("slow", config(`env {\n  CHANGED "1"\n}`));
  Deno.kill(d.pid, "SIGHUP");
  // The reload is stopping the old process, which takes its whole grace.
  await waitFor("the reload stopping slow", async () => {
    const s = await sb.call<StatusDetail>("status", { name: "slow" });
    return s.state === "stopping";
  });
  Deno.kill(d.pid, "SIGTERM");
  assertEquals((await d.status).code, 0);
  assertEquals(await alive(first!), false);
  assertEquals(await processesWith(t), [], "no child of the old or new config outlives the daemon");
});

Deno.test("robustness: a follower that never reads does not hold up shutdown", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig(
    "chatty",
    `command "sh"\nargs "-c" "yes 'a line of output, again and again'"\nport ${freePort()}`,
  );
  const d = await sb.daemon();
  await waitFor("chatty running", async () => {
    const s = await sb.call<StatusDetail>("status", { name: "chatty" });
    return s.state === "running";
  });
  const conn = await Deno.connect({ transport: "unix", path: sb.socket });
  try {
    const req = { jsonrpc: "2.0", id: 1, method: "logs", params: { name: "chatty", follow: true } };
    await conn.write(new TextEncoder().encode(JSON.stringify(req) + "\n"));
    // It never reads: its queue fills while the child keeps writing.
    await waitFor("a few MB written", async () => {
      return (await Deno.stat(`${sb.state}/logs/chatty.log`)).size > 4_000_000;
    });
    const t0 = Date.now();
    Deno.kill(d.pid, "SIGTERM");
    assertEquals((await d.status).code, 0);
    const took = Date.now() - t0;
    assert(took < 8_000, `shutdown took ${took}ms with a follower that does not read`);
    const status = await sb.cli(["daemon", "status"]);
    assertEquals([status.code, status.stdout], [2, "stopped\n"]);
  } finally {
    conn.close();
  }
});

Deno.test("robustness: a 120,000-line tail across rotated files is complete", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig(
    "numbered",
    `command "${Deno.execPath()}"\nargs "run" "${FIXTURES}/numbered.ts" "130000" "80"\n` +
      `port ${freePort()}\nrestart { policy "never"; }\nlogs {\n  max-size "1MiB"\n  keep 30\n}`,
  );
  await sb.daemon();
  await waitFor("numbered done and stopped", async () => {
    const s = await sb.call<StatusDetail>("status", { name: "numbered" });
    return s.state === "stopped" && s.transitions.some((t) => t.to === "stopped");
  }, 60_000);
  const r = await sb.cli(["logs", "numbered", "--tail", "120000"]);
  assertEquals([r.code, r.stderr], [0, ""]);
  const lines = r.stdout.split("\n").filter((l) => l);
  assertEquals(lines.length, 120_000);
  const numbers = lines.map((l) => Number(l.split(" ")[1]));
  assertEquals(numbers[0], 10_001);
  assertEquals(numbers.at(-1), 130_000);
  assert(numbers.every((n, i) => n === 10_001 + i), "consecutive, nothing lost or repeated");
});

Deno.test("robustness: a follower sees the new config's lines after a reload, and hears when its server is removed", async () => {
  await using sb = await Sandbox.create();
  const ticker = (word: string) =>
    `command "sh"\nargs "-c" "while true; do echo ${word}; sleep 0.05; done"\nport ${freePort()}`;
  await sb.writeConfig("ticker", ticker("before"));
  await sb.daemon();
  const follower = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "logs", "ticker", "-f"],
    env: sb.env(),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  sb.track(follower);
  let out = "";
  const reading = (async () => {
    for await (const chunk of follower.stdout.pipeThrough(new TextDecoderStream())) out += chunk;
  })();
  const errText = new Response(follower.stderr).text();
  await waitFor("the old lines", () => out.includes("before"));
  await sb.writeConfig("ticker", ticker("after"));
  const r = await sb.cli(["reload"]);
  assertMatch(r.stdout, /changed: ticker/);
  await waitFor("the new config's lines", () => out.includes("after"));
  await Deno.remove(`${sb.config}/ticker.kdl`);
  assertMatch((await sb.cli(["reload"])).stdout, /removed: ticker/);
  const { code } = await follower.status;
  await reading;
  assertEquals(code, 1);
  assertEquals(await errText, "xy: ticker: the server was removed from the config dir\n");
});

/** True while `pid` holds a POSIX write lock on some file (/proc/locks). */
async function holdsWriteLock(pid: number): Promise<boolean> {
  const locks = await Deno.readTextFile("/proc/locks");
  return locks.split("\n").some((l) => {
    const f = l.trim().split(/\s+/);
    return f[1] === "POSIX" && f[3] === "WRITE" && f[4] === String(pid);
  });
}

Deno.test("robustness: a daemon that holds the lock but does not answer is named, not waited for", async () => {
  await using sb = await Sandbox.create();
  const d = await sb.daemon();
  // Stopped in the middle of a write to Deno's own caches (SQLite, shared by every `deno run`),
  // the daemon would hang the CLI inside Deno before xy's code runs: stop it between writes.
  await waitFor(
    "the daemon between writes to Deno's caches",
    async () => !(await holdsWriteLock(d.pid)),
  );
  Deno.kill(d.pid, "SIGSTOP");
  try {
    const status = await sb.cli(["daemon", "status"]);
    assertEquals(status.code, 2);
    assertMatch(
      status.stderr,
      new RegExp(
        `does not answer .*yet a daemon \\(pid ${d.pid}, per .*\\) holds .*xy\\.sock\\.lock`,
      ),
    );
    const stop = await sb.cli(["daemon", "stop"]);
    assertEquals(stop.code, 1);
  } finally {
    Deno.kill(d.pid, "SIGCONT");
  }
  assertEquals((await sb.cli(["daemon", "stop"])).code, 0);
});
