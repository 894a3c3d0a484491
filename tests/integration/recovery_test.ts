/**
 * Crash recovery tried as users meet it: a daemon killed with SIGKILL, and the
 * next one started by whatever asks first — a command run inside a server
 * included — and reaping what the dead one left, each leftover within its own
 * server's grace, while it already answers.
 */
import { assert, assertEquals } from "../assert.ts";
import type { ServerSummary } from "../../lib/protocol/types.ts";
import { alive, freePort, MAIN, Sandbox, waitFor } from "./harness.ts";

async function runningPids(sb: Sandbox): Promise<Record<string, number>> {
  const rows = await sb.call<ServerSummary[]>("list");
  return Object.fromEntries(
    rows.filter((r) => r.state === "running" && r.pid).map((r) => [r.name, r.pid!]),
  );
}

async function daemonPid(sb: Sandbox): Promise<number> {
  return (await sb.call<{ pid: number }>("daemon_info")).pid;
}

Deno.test("recovery: a daemon started by a command inside a server, after a crash, keeps running and brings the server back", async () => {
  await using sb = await Sandbox.create();
  // A control script: it calls `xy list` in a loop, as a web terminal or a status bar would.
  const loop =
    `while true; do "$CLI_DENO" run -A "$CLI_MAIN" list >/dev/null 2>&1; sleep 0.2; done`;
  await sb.writeConfig(
    "ctl",
    `command "sh"\nargs "-c" ${JSON.stringify(loop)}\nport ${freePort()}\n` +
      `env {\n  CLI_DENO ${JSON.stringify(Deno.execPath())}\n  CLI_MAIN ${
        JSON.stringify(MAIN)
      }\n}\n` +
      `stop { grace "1s"; }`,
  );
  const first = await sb.daemon();
  const old = await waitFor("ctl running", async () => (await runningPids(sb)).ctl);
  first.child.kill("SIGKILL");
  await first.status;

  // The loop's next `xy list` starts a daemon in the background: it must not take the
  // server's marks with it, nor stop itself or the command that started it.
  const second = await waitFor("a new daemon answering", async () => {
    const pid = await daemonPid(sb);
    return pid !== first.pid ? pid : null;
  }, 30_000);
  const fresh = await waitFor("ctl running again", async () => {
    const pid = (await runningPids(sb)).ctl;
    return pid && pid !== old ? pid : null;
  }, 30_000);
  assertEquals(await alive(old), false, "the old run was reaped");
  // Its own loop keeps asking the same daemon: it stays up.
  await waitFor("ctl's loop to ask the new daemon again", async () => {
    const log = await Deno.readTextFile(`${sb.state}/daemon.log`).catch(() => "");
    return log.includes("daemon started") ? true : null;
  });
  for (let i = 0; i < 5; i++) {
    assertEquals(await daemonPid(sb), second, "the daemon stayed the same");
    assertEquals((await runningPids(sb)).ctl, fresh, "the server stayed the same");
    await new Promise((r) => setTimeout(r, 200));
  }
  const log = await Deno.readTextFile(`${sb.state}/daemon.log`);
  const stopped = log.split("\n").filter((l) => l.includes("stopping a process"));
  assert(stopped.length > 0, `nothing was reaped:\n${log}`);
  assert(
    !stopped.some((l) => l.includes(`pid=${second} `)),
    `the daemon signalled itself:\n${log}`,
  );
});

Deno.test("recovery: the boot reap gives each leftover its own grace, and the daemon answers list meanwhile", async () => {
  await using sb = await Sandbox.create();
  const ignoring = (grace: string) =>
    `command "sh"\nargs "-c" "trap '' TERM; while :; do sleep 0.05; done"\nport ${freePort()}\n` +
    `stop { grace "${grace}"; }`;
  await sb.writeConfig(
    "patient",
    `command "sleep"\nargs "1000"\nport ${freePort()}\n` +
      `stop { grace "30s"; }`,
  );
  await sb.writeConfig("quick", ignoring("1s"));
  await sb.writeConfig("slow", ignoring("6s"));
  const first = await sb.daemon();
  const old = await waitFor("all three running", async () => {
    const p = await runningPids(sb);
    return p.patient && p.quick && p.slow ? p : null;
  });
  await waitFor("all three recorded", async () => {
    let n = 0;
    for await (const e of Deno.readDir(`${sb.state}/pids`)) if (!e.name.startsWith(".")) n++;
    return n === 3;
  });
  first.child.kill("SIGKILL");
  await first.status;

  await sb.daemon();
  // The reap is under way (slow ignores SIGTERM for 6 s), and list answers: nothing started yet.
  const rows = await sb.call<ServerSummary[]>("list");
  assert(await alive(old.slow!), "list waited for the whole reap");
  assertEquals(rows.map((r) => [r.name, r.state]), [
    ["patient", "stopped"],
    ["quick", "stopped"],
    ["slow", "stopped"],
  ]);
  // quick, deaf to SIGTERM, is killed once its own 1 s grace is over, not patient's 30 s or slow's 6 s.
  await waitFor("quick's old run killed", async () => !(await alive(old.quick!)), 4_000);
  assertEquals(await alive(old.patient!), false, "patient went at SIGTERM");
  assert(await alive(old.slow!), "slow is still within its grace");
  // Nothing started twice: each comes back once the reap is over.
  const fresh = await waitFor("all three running again", async () => {
    const p = await runningPids(sb);
    return p.patient && p.quick && p.slow ? p : null;
  }, 20_000);
  assertEquals(await alive(old.slow!), false);
  for (const name of ["patient", "quick", "slow"]) {
    assert(fresh[name] !== old[name], `${name} is a new run`);
  }
});
