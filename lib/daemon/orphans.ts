/**
 * Orphans of a daemon that was killed: its children were detached, so they
 * outlive it and would hold their ports or run twice. Before any server
 * starts, every recorded group whose leader is still the same process (same
 * pid *and* start time) is stopped. A pid now used by an unrelated process is
 * left alone.
 */
import { terminateGroup } from "../process/group.ts";
import { processStartTime, readRecords, removeRecord } from "../process/records.ts";
import type { Logger } from "./log.ts";

/** Stops the recorded groups still alive; returns the names it stopped. */
export async function reapOrphans(dir: string, log: Logger): Promise<string[]> {
  const records = await readRecords(dir);
  const reaped: string[] = [];
  await Promise.all(records.map(async (r) => {
    const started = await processStartTime(r.pid);
    if (started !== undefined && started === r.start_time) {
      log("warn", "stopping a child left by a previous daemon", { server: r.name, pid: r.pid });
      await terminateGroup(r.pgid, r.grace_ms);
      reaped.push(r.name);
    } else if (started !== undefined) {
      log("info", "recorded pid now belongs to another process; left alone", {
        server: r.name,
        pid: r.pid,
      });
    }
    await removeRecord(dir, r.name);
  }));
  return reaped.sort();
}
