/**
 * A per-session stdio server's runs (session_run.ts) with real processes: the
 * machine's one "process" made of a first child and the sessions' children.
 */
import { assert, assertEquals } from "../assert.ts";
import { SessionRuns } from "../../lib/supervisor/session_run.ts";
import { denoSpawner, type SpawnSpec } from "../../lib/process/spawner.ts";
import { systemClock } from "../../lib/clock.ts";
import { waitFor } from "../integration/harness.ts";
import { readStat } from "../../lib/process/group.ts";

const runs = () =>
  new SessionRuns(denoSpawner, { stdinFirstMs: 100, graceMs: 500, clock: systemClock });

/** `sh -c script`, with a pipe to its stdin, as a stdio server is spawned. */
const sh = (script: string, env: Record<string, string> = {}): SpawnSpec => ({
  command: "sh",
  args: ["-c", script],
  env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env },
  stdin: "piped",
});

const alive = async (pid: number) => {
  const s = await readStat(pid);
  return s !== undefined && s.state !== "Z";
};

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

Deno.test("session runs: a first child that exits before it is checked ends the run, with its exit", async () => {
  const r = runs();
  const run = r.spawn(sh("exit 3"));
  const [status, stderr] = await Promise.all([run.status, text(run.stderr)]);
  assertEquals(status, { code: 3, signal: null });
  assertEquals(stderr, "");
  assertEquals(await r.groupAlive(run.pid), false);
  await run.stdout.cancel();
  await run.stdin!.close().catch(() => {});
  let refused = "";
  try {
    r.start();
  } catch (e) {
    refused = (e as Error).message;
  }
  assertEquals(refused, "the server is not running");
});

Deno.test("session runs: a checked first child is stopped and the run lives on; sessions' children carry its marks; it ends with its last child", async () => {
  const r = runs();
  // Goes when its stdin closes, as a stdio server does; says which run it is of on stderr.
  const spec = sh(`echo "up $XY_RUN" >&2; cat >/dev/null; echo down >&2`, { XY_RUN: "r1" });
  const run = r.spawn(spec);
  const stderr = text(run.stderr);
  let settled = false;
  run.status.then(() => settled = true);
  // Checked: let go of, and stopped — its stdin left open, so SIGTERM after the moment.
  r.stop(run.pid);
  await waitFor("the first child gone", async () => !(await alive(run.pid)));
  await run.stdout.cancel();
  await run.stdin!.close().catch(() => {});
  assertEquals(await r.groupAlive(run.pid), false, "no process, yet the run goes on");
  assertEquals(settled, false);
  // A session's child: the same command and marks; its stdin closed, it goes by itself.
  const a = r.start();
  const b = r.start();
  assert(a.pid !== b.pid && (await alive(a.pid)) && (await alive(b.pid)));
  assertEquals(await r.groupAlive(run.pid), true);
  await a.stdin.close();
  assertEquals(await a.exited, { code: 0, signal: null });
  await a.stdout.cancel();
  assertEquals(settled, false, "a session's child ending is not the run's end");
  // The run is being stopped: it ends once its last child has exited.
  r.ending(run.pid);
  assertEquals(settled, false);
  await b.stdin.close();
  await b.exited;
  await b.stdout.cancel();
  assertEquals(await run.status, { code: 0, signal: null });
  assertEquals(await r.groupAlive(run.pid), false);
  assertEquals((await stderr).split("\n").sort(), ["", "down", "down", "up r1", "up r1", "up r1"]);
});

Deno.test("session runs: a signal to the run reaches every child's group, and the run is alive while any is", async () => {
  const r = runs();
  const run = r.spawn(sh("cat >/dev/null"));
  const stderr = text(run.stderr);
  r.stop(run.pid);
  await run.stdin!.close();
  await waitFor("the first child gone", async () => !(await alive(run.pid)));
  await run.stdout.cancel();
  // Two sessions' children, running.
  const kids = [r.start(), r.start()];
  for (const c of kids) await c.stdout.cancel();
  assertEquals(await r.groupAlive(run.pid), true);
  assert(r.signalGroup(run.pid, "SIGKILL"));
  for (const c of kids) {
    assertEquals((await c.exited).signal, "SIGKILL");
    await c.stdin.close().catch(() => {});
  }
  assertEquals((await run.status).signal, "SIGKILL");
  await waitFor("every group gone", async () => !(await r.groupAlive(run.pid)));
  assertEquals(r.signalGroup(run.pid, "SIGKILL"), false, "a run seen gone is forgotten");
  await stderr;
});

Deno.test("session runs: two children's stderr lines never mix, however they are written", async () => {
  const r = runs();
  // Half a line, a pause, the rest and a last line without its newline; then it waits for stdin.
  const run = r.spawn(
    sh(`printf "$$-1 " >&2; sleep 0.2; printf "$$-2\\n$$-3" >&2; cat >/dev/null`),
  );
  const stderr = text(run.stderr);
  const c = r.start();
  await Promise.all([run.stdin!.close(), c.stdin.close()]);
  await Promise.all([run.stdout.cancel(), c.stdout.cancel()]);
  await c.exited;
  // The first child ended before it was checked: the run ends with its last child.
  await run.status;
  const lines = (await stderr).split("\n").filter((l) => l !== "").sort();
  const [a, b] = [run.pid, c.pid];
  assertEquals(lines, [`${a}-1 ${a}-2`, `${a}-3`, `${b}-1 ${b}-2`, `${b}-3`].sort());
});
