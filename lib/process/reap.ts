/**
 * Stopping what earlier runs left alive, from their records (records.ts):
 * every live process of this user that carries a recorded run's mark
 * (markers.ts) — which finds grandchildren whose leader died and processes
 * that left the group — and every recorded group whose leader is still the
 * same process (same pid *and* start time). Each gets SIGTERM, then SIGKILL
 * once its own run's grace is over: a leftover that ignores SIGTERM is not
 * held for the longest grace of all. A pid or group now used by an unrelated
 * process (no mark, another start time) is never touched: each process is
 * identified again by its start time before every signal.
 *
 * A leftover may fork while it is being stopped, and its child carries the
 * mark too: the processes are scanned again after each round, until a scan
 * finds nothing new (at most {@link MAX_ROUNDS} rounds). The reaping process
 * itself, and those it is told to spare (the process that started a daemon),
 * are never signalled, even when they carry a mark or sit in a recorded group.
 */
import { pollUntil } from "../deadline.ts";
import type { Logger } from "../logger.ts";
import { assertPid, readStat } from "./group.ts";
import { markedProcesses } from "./markers.ts";
import { processStartTime, readRecords, removeRecord, type SpawnRecord } from "./records.ts";

/** How many scans a reap makes at most: each round stops what the one before did not find. */
export const MAX_ROUNDS = 5;
/** How long a reap waits for a process after SIGKILL. */
const KILL_WAIT_MS = 2_000;

/** A process to stop: who it is (pid and start time), why, and the grace its run has. */
interface Target {
  readonly pid: number;
  readonly startTime: string;
  readonly why: string;
  readonly server: string;
  readonly graceMs: number;
  /** Signal its whole group (a recorded leader), not only the process. */
  readonly group: boolean;
}

/** Options of {@link reapRecorded} and {@link reapRecords}. */
export interface ReapOptions {
  readonly log: Logger;
  /** Processes never to signal, besides this one: the process that started the daemon. */
  readonly spare?: readonly number[];
}

/**
 * Stops what the records in `dir` left alive (of server `opts.server` only,
 * when given), then removes those records. Resolves with the pids stopped.
 */
export async function reapRecorded(
  dir: string,
  opts: ReapOptions & { readonly server?: string },
): Promise<number[]> {
  const records = (await readRecords(dir)).filter((r) => !opts.server || r.name === opts.server);
  return await reapRecords(dir, records, { ...opts, why: "left by an earlier run" });
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
  opts: ReapOptions & { readonly why: string },
): Promise<number[]> {
  if (records.length === 0) return [];
  const spare = await spared(opts.spare ?? []);
  const seen = new Set<number>();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const fresh = (await findTargets(records, opts.log)).filter((t) =>
      !seen.has(t.pid) && !spare.pids.has(t.pid)
    );
    if (fresh.length === 0) break;
    for (const t of fresh) {
      seen.add(t.pid);
      opts.log("warn", `stopping a process ${opts.why}`, {
        server: t.server,
        pid: t.pid,
        why: t.why,
      });
    }
    // A spared process's own group is signalled leader alone: the group would take it too.
    await stopAll(
      fresh.map((t) => t.group && spare.groups.has(t.pid) ? { ...t, group: false } : t),
    );
  }
  await Promise.all(records.map((r) => removeRecord(dir, r)));
  return [...seen].sort((a, b) => a - b);
}

/** What `records` still find alive: marked processes of their runs, and recorded leaders. */
async function findTargets(records: readonly SpawnRecord[], log: Logger): Promise<Target[]> {
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
        graceMs: r.grace_ms,
        group: false,
      });
    }
  }
  for (const r of records) {
    if (r.pid === undefined) continue;
    const startTime = await processStartTime(r.pid);
    if (startTime === undefined) continue;
    if (startTime !== r.start_time) {
      log("info", "recorded pid now belongs to another process; left alone", {
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
      graceMs: r.grace_ms,
      group: r.pgid === r.pid,
    });
  }
  return [...targets.values()];
}

/** This process and `others`, and the process groups they are in. */
async function spared(others: readonly number[]) {
  const pids = new Set([Deno.pid, ...others]);
  const groups = new Set<number>();
  for (const pid of pids) {
    const stat = Deno.build.os === "linux" ? await readStat(pid) : undefined;
    if (stat) groups.add(stat.pgrp);
  }
  return { pids, groups };
}

/** SIGTERM to each, and SIGKILL to each still there once its own grace is over; each identified again first. */
async function stopAll(targets: readonly Target[]) {
  for (const t of targets) await signal(t, "SIGTERM");
  const started = Date.now();
  const killed = new Set<Target>();
  const longest = Math.max(...targets.map((t) => t.graceMs));
  await pollUntil(async () => {
    const elapsed = Date.now() - started;
    let left = false;
    for (const t of targets) {
      if (!(await same(t))) continue;
      left = true;
      if (!killed.has(t) && elapsed >= t.graceMs) {
        killed.add(t);
        await signal(t, "SIGKILL");
      }
    }
    return !left;
  }, { timeoutMs: longest + KILL_WAIT_MS, maxDelayMs: 50 });
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
