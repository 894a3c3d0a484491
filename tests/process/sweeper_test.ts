import { assert, assertEquals } from "../assert.ts";
import { Sweeper } from "../../lib/process/sweeper.ts";
import { newRunId, readRecords, type SpawnRecord, writeRecord } from "../../lib/process/records.ts";
import { alive, waitFor } from "../integration/harness.ts";

/** A `sleep` carrying run `run`'s mark, in a session of its own, as a process that left its group. */
function marked(run: string): Deno.ChildProcess {
  return new Deno.Command("setsid", {
    args: ["sleep", "1000"],
    env: { XY_RUN: run, XY_SERVER: "swept" },
    stdout: "null",
    stderr: "null",
  }).spawn();
}

function record(run: string, daemon: string): SpawnRecord {
  return { name: "swept", run, daemon, grace_ms: 1_000 };
}

Deno.test("sweeper: ended runs are swept in one batch, a current run and other daemons' records are left alone", async () => {
  const dir = await Deno.makeTempDir();
  const daemon = newRunId();
  const [a, b, current, other] = [newRunId(), newRunId(), newRunId(), newRunId()];
  const procs = [marked(a), marked(b), marked(current), marked(other)];
  const logged: string[] = [];
  const sweeper = new Sweeper({
    dir,
    daemon,
    log: (_level, msg, fields) => logged.push(`${msg} pid=${fields?.pid}`),
    delayMs: 50,
  });
  try {
    for (const r of [a, b, current]) writeRecord(dir, record(r, daemon));
    writeRecord(dir, record(other, newRunId()));
    await waitFor("the marks to be readable", async () => {
      for (const p of procs) if (!(await alive(p.pid))) return false;
      return true;
    });
    sweeper.ended(record(a, daemon));
    sweeper.ended(record(b, daemon));
    await waitFor("both ended runs swept", async () => {
      const [pa, pb] = await Promise.all([procs[0]!.status, procs[1]!.status]);
      return pa.signal === "SIGTERM" && pb.signal === "SIGTERM";
    });
    await waitFor("their records removed", async () => (await readRecords(dir)).length === 2);
    assert(await alive(procs[2]!.pid), "a run that has not ended is not swept");
    assert(
      logged.some((l) => l.includes("outlived its run") && l.endsWith(`pid=${procs[0]!.pid}`)),
      String(logged),
    );

    // The daemon goes: its own remaining record is swept; another daemon's is not its to touch.
    await sweeper.finish();
    assertEquals((await procs[2]!.status).signal, "SIGTERM");
    assert(await alive(procs[3]!.pid), "another daemon's run is left alone");
    assertEquals((await readRecords(dir)).map((r) => r.run), [other]);
  } finally {
    for (const p of procs) {
      try {
        p.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await p.status;
    }
    await Deno.remove(dir, { recursive: true });
  }
});
