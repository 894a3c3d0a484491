import { assert, assertEquals, assertMatch } from "../assert.ts";
import {
  alive,
  FIXTURES,
  freePort,
  groupMembers,
  MAIN,
  Sandbox,
  sandboxProcesses,
  waitFor,
} from "./harness.ts";
import type { ServerSummary, StatusDetail } from "../../lib/protocol/types.ts";

async function runningPids(sb: Sandbox): Promise<Record<string, number>> {
  const rows = await sb.call<ServerSummary[]>("list");
  return Object.fromEntries(
    rows.filter((r) => r.state === "running" && r.pid).map((r) => [r.name, r.pid!]),
  );
}

Deno.test("orphans: after the daemon is SIGKILLed, the next one stops its old children before starting them again", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig("plain", `command "sleep"\nargs "1000"\nport ${freePort()}`);
  await sb.writeConfig(
    "forker",
    `command "${FIXTURES}/forker.sh"\nport ${freePort()}\nstop { grace "2s"; }`,
  );
  const first = await sb.daemon();
  const old = await waitFor("both running", async () => {
    const p = await runningPids(sb);
    return p.plain && p.forker ? p : null;
  });
  await waitFor(
    "the grandchildren forked",
    async () => (await groupMembers(old.forker!)).length >= 3,
  );
  await waitFor("both recorded", async () => {
    const names = [];
    for await (const e of Deno.readDir(`${sb.state}/pids`)) names.push(e.name);
    return names.length === 2;
  });
  first.child.kill("SIGKILL");
  await first.status;
  // The children outlived their daemon.
  assert(await alive(old.plain!));
  assert(await alive(old.forker!));

  await sb.daemon();
  const fresh = await waitFor("both running again", async () => {
    const p = await runningPids(sb);
    return p.plain && p.forker && p.plain !== old.plain && p.forker !== old.forker ? p : null;
  });
  assertEquals(await alive(old.plain!), false);
  assertEquals(await groupMembers(old.forker!), []);
  assert(await alive(fresh.plain!));
  assert(await alive(fresh.forker!));
  // Exactly one `sleep 1000` leads a group for plain: the new one.
  assertEquals(await groupMembers(fresh.plain!), [fresh.plain!]);
});

Deno.test("orphans: a recorded pid now used by an unrelated process is left alone", async () => {
  await using sb = await Sandbox.create();
  const unrelated = new Deno.Command("sleep", {
    args: ["1000"],
    detached: true,
    stdout: "null",
    stderr: "null",
  }).spawn();
  sb.track(unrelated);
  await Deno.mkdir(`${sb.state}/pids`, { recursive: true });
  await Deno.writeTextFile(
    `${sb.state}/pids/ghost.json`,
    JSON.stringify({
      name: "ghost",
      pid: unrelated.pid,
      pgid: unrelated.pid,
      start_time: "1",
      grace_ms: 100,
    }),
  );
  const d = await sb.daemon();
  await waitFor(
    "the record cleared",
    async () => !(await Deno.stat(`${sb.state}/pids/ghost.json`).then(() => true, () => false)),
  );
  assert(await alive(unrelated.pid), "an unrelated process was killed");
  await waitFor("the daemon to log why it left the pid alone", () => /left alone/.test(d.log()));
});

/** The runs of `server` that live processes of this sandbox carry, each with its pids. */
async function liveRuns(sb: Sandbox, server: string): Promise<Map<string, number[]>> {
  const runs = new Map<string, number[]>();
  for (const m of await sandboxProcesses(sb.dir)) {
    if (m.server !== server || !m.run) continue;
    runs.set(m.run, [...(runs.get(m.run) ?? []), m.pid]);
  }
  return runs;
}

Deno.test("orphans: grandchildren whose leader died with the daemon are found by their mark and stopped", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig("forker", `command "${FIXTURES}/forker.sh"\nport ${freePort()}`);
  const first = await sb.daemon();
  const leader = await waitFor("forker running", async () => (await runningPids(sb)).forker);
  const kids = await waitFor("its grandchildren", async () => {
    const m = await groupMembers(leader);
    return m.length >= 3 ? m.filter((p) => p !== leader) : null;
  });
  first.child.kill("SIGKILL");
  await first.status;
  // The leader dies too; its grandchildren stay, in a group without a leader.
  Deno.kill(leader, "SIGKILL");
  await waitFor("the leader gone", async () => !(await alive(leader)));
  for (const k of kids) assert(await alive(k), "a grandchild outlived its leader");

  await sb.daemon();
  const fresh = await waitFor("forker running again", async () => {
    const p = (await runningPids(sb)).forker;
    return p && p !== leader ? p : null;
  });
  for (const k of kids) assertEquals(await alive(k), false, `grandchild ${k} was left running`);
  await waitFor("the new run's grandchildren", async () => (await groupMembers(fresh)).length >= 3);
  const runs = await liveRuns(sb, "forker");
  assertEquals(runs.size, 1, "one run of forker lives");
  assert([...runs.values()][0]!.includes(fresh));
});

Deno.test("orphans: a process that left its group with setsid is found by its mark", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig(
    "escaper",
    `command "sh"\nargs "-c" "setsid sleep 1000 < /dev/null > /dev/null 2>&1 & exec sleep 1000"\nport ${freePort()}`,
  );
  const first = await sb.daemon();
  const leader = await waitFor("escaper running", async () => (await runningPids(sb)).escaper);
  const escaped = await waitFor("the escaped one", async () => {
    const pids = [...(await liveRuns(sb, "escaper")).values()].flat().filter((p) => p !== leader);
    return pids[0];
  });
  assertEquals((await groupMembers(leader)).includes(escaped), false, "it left the group");
  first.child.kill("SIGKILL");
  await first.status;
  Deno.kill(leader, "SIGKILL");
  const d = await sb.daemon();
  await waitFor("escaper running again", async () => {
    const p = (await runningPids(sb)).escaper;
    return p && p !== leader;
  });
  assertEquals(await alive(escaped), false, `the escaped process was left running: ${d.log()}`);
  assertMatch(
    d.log(),
    new RegExp(`stopping a process left by an earlier run .*pid=${escaped} .*carries the mark`),
  );
});

/** A server whose leader starts a process that leaves its group with setsid; `then` runs after. */
function escaperConfig(then = "exec sleep 1000"): string {
  return `command "sh"\nargs "-c" "setsid sleep 1000 < /dev/null > /dev/null 2>&1 & ${then}"\n` +
    `port ${freePort()}\nrestart { backoff-initial "100ms"; }`;
}

/** The live processes of `server`'s runs other than its group leader `leader`. */
async function escapedOf(sb: Sandbox, server: string, leader: number): Promise<number[]> {
  return [...(await liveRuns(sb, server)).values()].flat().filter((p) => p !== leader);
}

Deno.test("orphans: a process that left its group goes with its run: on stop, on a crash, and when the daemon stops", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig("esc-stop", escaperConfig());
  await sb.writeConfig("esc-crash", escaperConfig());
  const d = await sb.daemon();
  const leaders = await waitFor("both running", async () => {
    const p = await runningPids(sb);
    return p["esc-stop"] && p["esc-crash"] ? p : null;
  });
  const stopLeader = leaders["esc-stop"]!;
  const crashLeader = leaders["esc-crash"]!;
  const [escStop] = await waitFor("the first escaped", async () => {
    const e = await escapedOf(sb, "esc-stop", stopLeader);
    return e.length ? e : null;
  });
  const [escCrash] = await waitFor("the second escaped", async () => {
    const e = await escapedOf(sb, "esc-crash", crashLeader);
    return e.length ? e : null;
  });
  assertEquals((await groupMembers(stopLeader)).includes(escStop!), false, "it left the group");

  // `xy stop`: the run's group is gone, and so is what left it.
  assertEquals((await sb.cli(["stop", "esc-stop"])).code, 0);
  await waitFor(
    "the escaped process of a stopped server stopped",
    async () => !(await alive(escStop!)),
  );

  // The leader dies on its own: the server restarts, and its last run's escaped process goes.
  Deno.kill(crashLeader, "SIGKILL");
  const next = await waitFor("esc-crash running again", async () => {
    const p = (await runningPids(sb))["esc-crash"];
    return p && p !== crashLeader ? p : null;
  });
  await waitFor("the crashed run's escaped process stopped", async () => !(await alive(escCrash!)));
  const [escNext] = await waitFor("the new run's escaped", async () => {
    const e = await escapedOf(sb, "esc-crash", next);
    return e.length ? e : null;
  });
  assert(await alive(escNext!), "the current run's own process is left alone");
  assertMatch(d.log(), new RegExp(`stopping a process that outlived its run .*pid=${escCrash}`));

  // The daemon stops: nothing it started is alive once it has exited.
  assertEquals(await d.stop(), 0);
  assertEquals(await alive(escNext!), false, `left running after the daemon stopped: ${d.log()}`);
  assertEquals(await liveRuns(sb, "esc-crash"), new Map());
});

Deno.test("orphans: a daemon killed right after spawning, three times over, leaves exactly one instance of each server", async () => {
  await using sb = await Sandbox.create();
  const names = ["s1", "s2", "s3", "s4", "s5", "s6"];
  for (const n of names) {
    await sb.writeConfig(n, `command "sleep"\nargs "1000"\nport ${freePort()}`);
  }
  for (let round = 0; round < 3; round++) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "daemon"],
      env: sb.env(),
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    sb.track(child);
    // As soon as the first spawn is recorded (before or just after it happens), the daemon dies.
    await waitFor("a spawn recorded", async () => {
      for await (const e of Deno.readDir(`${sb.state}/pids`)) {
        if (e.name.endsWith(".json") && !e.name.startsWith(".")) return true;
      }
      return false;
    }, 15_000);
    child.kill("SIGKILL");
    await child.status;
  }
  const d = await sb.daemon();
  let seen = {};
  const running = await waitFor("all six running", async () => {
    const p = seen = await runningPids(sb);
    return names.every((n) => p[n]) ? p : null;
  }, 30_000).catch((e) => {
    // What was running, and what the daemon said, if it ever comes to this.
    throw new Error(`${e.message}; running: ${JSON.stringify(seen)}; daemon log: ${d.log()}`);
  });
  for (const n of names) {
    const runs = await liveRuns(sb, n);
    assertEquals(runs.size, 1, `${n}: ${JSON.stringify([...runs])}`);
    assertEquals([...runs.values()][0], [running[n]!], `${n} runs once`);
  }
});

Deno.test("orphans: a port taken while a server waits to restart goes through backoff, and it recovers once the port is free", async () => {
  await using sb = await Sandbox.create();
  const port = freePort();
  await sb.writeConfig(
    "svc",
    `command "sleep"\nargs "1000"\nport ${port}\nrestart {\n  backoff-initial "300ms"\n  backoff-max "300ms"\n}`,
  );
  await sb.daemon();
  const pid = await waitFor("svc running", async () => (await runningPids(sb)).svc);
  Deno.kill(pid, "SIGKILL");
  await waitFor(
    "svc restarting",
    async () => (await sb.call<StatusDetail>("status", { name: "svc" })).state === "restarting",
  );
  const holder = await sb.holdPort(port);
  const conflicted = await waitFor("a start that found the port taken", async () => {
    const s = await sb.call<StatusDetail>("status", { name: "svc" });
    return s.transitions.some((t) => t.reason.startsWith(`port ${port} is already in use`))
      ? s
      : null;
  });
  assertEquals(conflicted.state, "restarting", "not failed: it waits out a backoff");
  assertMatch(
    conflicted.last_error!,
    new RegExp(`^port ${port} is already in use by pid ${holder.pid}`),
  );
  holder.kill("SIGKILL");
  await holder.status;
  await waitFor("svc running again", async () => {
    const s = await sb.call<StatusDetail>("status", { name: "svc" });
    return s.state === "running" && s.pid !== pid;
  });
});
