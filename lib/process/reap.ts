/**
 * Stopping what earlier runs left alive, from their records (records.ts):
 * every live process of this user that carries a recorded run's mark
 * (markers.ts) — which finds grandchildren whose leader died and processes
 * that left the group — and every recorded group whose leader is still the
 * same process (same pid *and* start time). SIGTERM to all of them, the
 * longest recorded grace, then SIGKILL to what is left. A pid or group now
 * used by an unrelated process (no mark, another start time) is never
 * touched: each process is identified again by its start time before every
 * signal.
 */
import { pollUntil } from "../poll.ts";
import { assertPid } from "./group.ts";
import { markedProcesses } from "./markers.ts";
import { processStartTime, readRecords, removeRecord, type SpawnRecord } from "./records.ts";

/** Where the reaper says what it did. */
export type ReapLog = (
  level: "info" | "warn",
  msg: string,
  fields: Record<string, string | number | undefined>,
) => void;

/** A process to stop: who it is (pid and start time) and why. */
interface Target {
  readonly pid: number;
  readonly startTime: string;
  readonly why: string;
  readonly server: string;
  /** Signal its whole group (a recorded leader), not only the process. */
  readonly group: boolean;
}

/**
 * Stops what the records in `dir` left alive (of server `opts.server` only,
 * when given), then removes those records. Resolves with the pids stopped.
 */
export async function reapRecorded(
  dir: string,
  opts: { log: ReapLog; server?: string },
): Promise<number[]> {
  const records = (await readRecords(dir)).filter((r) => !opts.server || r.name === opts.server);
  return await reapRecords(dir, records, { log: opts.log, why: "left by an earlier run" });
}

/**
 * Stops the processes of `records`' runs that are still alive — those that
 * carry a run's mark, and recorded leaders that are still the same process —
 * then removes the records. `why` says in the log what they are
 * ("stopping a process <why>").
 */
export async function reapRecords(
  dir: string,
  records: readonly SpawnRecord[],
  opts: { log: ReapLog; why: string },
): Promise<number[]> {
  if (records.length === 0) return [];
  const targets = new Map<number, Target>();
  const runs = new Map(records.flatMap((r) => (r.run ? [[r.run, r] as const] : [])));
  if (runs.size > 0) {
    for (const m of await markedProcesses()) {
      const r = runs.get(m.run);
      const startTime = r && await processStartTime(m.pid);
      if (!r || !startTime) continue;
      targets.set(m.pid, {
        pid: m.pid,
        startTime,
        why: `it carries the mark of a run of ${r.name} (XY_RUN=${m.run.slice(0, 8)}…)`,
        server: r.name,
        group: false,
      });
    }
  }
  for (const r of records) {
    if (r.pid === undefined) continue;
    const startTime = await processStartTime(r.pid);
    if (startTime === undefined) continue;
    if (startTime !== r.start_time) {
      opts.log("info", "recorded pid now belongs to another process; left alone", {
        server: r.name,
        pid: r.pid,
      });
      continue;
    }
    targets.set(r.pid, {
      pid: r.pid,
      startTime,
      why: `it is the recorded leader of ${r.name}, same start time`,
      server: r.name,
      group: r.pgid === r.pid,
    });
  }
  for (const t of targets.values()) {
    opts.log("warn", `stopping a process ${opts.why}`, {
      server: t.server,
      pid: t.pid,
      why: t.why,
    });
  }
  await stopAll([...targets.values()], graceOf(records));
  await Promise.all(records.map((r) => removeRecord(dir, r)));
  return [...targets.keys()].sort((a, b) => a - b);
}

function graceOf(records: readonly SpawnRecord[]): number {
  return Math.max(0, ...records.map((r) => r.grace_ms));
}

/** SIGTERM, up to `graceMs` for all to go, then SIGKILL to what is left; each one identified again first. */
async function stopAll(targets: readonly Target[], graceMs: number) {
  if (targets.length === 0) return;
  for (const t of targets) await signal(t, "SIGTERM");
  const gone = await pollUntil(async () => {
    for (const t of targets) if (await same(t)) return false;
    return true;
  }, { timeoutMs: graceMs });
  if (gone) return;
  for (const t of targets) await signal(t, "SIGKILL");
  await pollUntil(async () => {
    for (const t of targets) if (await same(t)) return false;
    return true;
  }, { timeoutMs: 2_000 });
}

/** True while `t` is alive and still the process it was (same start time). */
async function same(t: Target): Promise<boolean> {
  return await processStartTime(t.pid) === t.startTime;
}

async function signal(t: Target, sig: "SIGTERM" | "SIGKILL") {
  if (!(await same(t))) return;
  assertPid(t.pid);
  try {
    Deno.kill(t.group ? -t.pid : t.pid, sig);
  } catch {
    // Gone between the check and the signal: nothing to stop.
  }
}
