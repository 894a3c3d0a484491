import { assert, assertEquals } from "../assert.ts";
import { reapRecorded } from "../../lib/process/reap.ts";
import { newRunId, readRecords, writeRecord } from "../../lib/process/records.ts";
import { parseEnviron } from "../../lib/process/markers.ts";
import { alive, waitFor } from "../integration/harness.ts";

/** Live processes carrying run `run`'s mark. */
async function carrying(run: string): Promise<number[]> {
  const out: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const env = await Deno.readFile(`/proc/${e.name}/environ`).catch(() => null);
    if (env && parseEnviron(env).get("XY_RUN") === run && await alive(Number(e.name))) {
      out.push(Number(e.name));
    }
  }
  return out;
}

const quiet = () => {};

Deno.test("reap: a leftover that forks as it is stopped leaves no child: the processes are scanned again", async () => {
  const dir = await Deno.makeTempDir();
  const run = newRunId();
  // On SIGTERM it starts a child, in a session of its own and carrying its mark, and exits.
  const script = `trap 'setsid sleep 1000 </dev/null >/dev/null 2>&1 & exit 0' TERM; ` +
    `while :; do sleep 0.05; done`;
  const leftover = new Deno.Command("setsid", {
    args: ["sh", "-c", script],
    env: { XY_RUN: run, XY_SERVER: "forky" },
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    writeRecord(dir, { name: "forky", run, grace_ms: 1_000 });
    await waitFor("the mark to be readable", async () => (await carrying(run)).length > 0);
    const stopped = await reapRecorded(dir, { log: quiet });
    assertEquals(await carrying(run), [], "a child forked during the reap outlived it");
    assert(stopped.length >= 2, `the child was found too: ${stopped}`);
    assertEquals(await readRecords(dir), []);
  } finally {
    for (const pid of await carrying(run)) Deno.kill(pid, "SIGKILL");
    await leftover.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reap: a process it is told to spare, and the reaper itself, are never signalled", async () => {
  const dir = await Deno.makeTempDir();
  const run = newRunId();
  const spared = new Deno.Command("sleep", {
    args: ["1000"],
    env: { XY_RUN: run, XY_SERVER: "kept" },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const other = new Deno.Command("sleep", {
    args: ["1000"],
    env: { XY_RUN: run, XY_SERVER: "kept" },
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    writeRecord(dir, { name: "kept", run, grace_ms: 500 });
    await waitFor("both marked", async () => (await carrying(run)).length === 2);
    const stopped = await reapRecorded(dir, { log: quiet, spare: [spared.pid] });
    assertEquals(stopped, [other.pid]);
    assert(await alive(spared.pid), "the spared process was stopped");
    assertEquals((await other.status).signal, "SIGTERM");
  } finally {
    spared.kill("SIGKILL");
    await spared.status;
    await Deno.remove(dir, { recursive: true });
  }
});
