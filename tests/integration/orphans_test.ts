import { assert, assertEquals } from "../assert.ts";
import { alive, FIXTURES, freePort, groupMembers, Sandbox, waitFor } from "./harness.ts";
import type { ServerSummary } from "../../lib/rpc/types.ts";

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
