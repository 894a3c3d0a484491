/**
 * Starting one run of a server: the port guard, the record written before
 * the spawn and completed after it, and the marks (`XY_SERVER`, `XY_RUN`)
 * every process of the run inherits, so none of them can hide from a later
 * reap (docs/ARCHITECTURE.md, "Crash recovery").
 */
import { errorMessage } from "../error_message.ts";
import type { ServerConfig } from "../config/schema.ts";
import type { PortGuard } from "../process/port.ts";
import { RUN_MARK, SERVER_MARK } from "../process/markers.ts";
import {
  newRunId,
  recordChild,
  type Recording,
  removeRecord,
  type SpawnRecord,
  writeRecord,
} from "../process/records.ts";
import { type ChildProcess, type Spawner, SpawnError } from "../process/spawner.ts";
import type { FailureCause } from "./core/model.ts";

/** A run that started, with its record; or why it did not. */
export type Launched =
  | {
    readonly child: ChildProcess;
    readonly record: SpawnRecord;
    /** Settles once the record holds the pid: its removal must wait for it. */
    readonly recorded: Promise<void>;
  }
  | { readonly reason: string; readonly cause: FailureCause };

/** Checks the port, records the run, spawns it, and completes the record. */
export async function launch(
  c: ServerConfig,
  opts: {
    readonly spawner: Spawner;
    readonly portGuard: PortGuard;
    readonly graceMs: number;
    /** A pipe to its stdin: a stdio server's channel. */
    readonly stdin?: "piped";
    /** Where runs are recorded, and by which daemon; none in tests. */
    readonly records?: Recording;
  },
): Promise<Launched> {
  const conflict = await opts.portGuard(c.port);
  if (conflict) return { reason: conflict, cause: "port_conflict" };
  const { records } = opts;
  const run = newRunId();
  const record: SpawnRecord = {
    name: c.name,
    run,
    ...(records ? { daemon: records.daemon } : {}),
    grace_ms: opts.graceMs,
  };
  // Recorded before it exists: a daemon killed in between leaves no run unrecorded.
  if (records) {
    try {
      writeRecord(records.dir, record);
    } catch {
      // Without a record only crash recovery is weaker: the run still starts.
    }
  }
  let child: ChildProcess;
  try {
    child = opts.spawner.spawn({
      command: c.command,
      args: c.args,
      env: { ...c.env, [SERVER_MARK]: c.name, [RUN_MARK]: run },
      ...(c.workingDir === undefined ? {} : { cwd: c.workingDir }),
      ...(opts.stdin ? { stdin: opts.stdin } : {}),
    });
  } catch (e) {
    if (records) await removeRecord(records.dir, record);
    const reason = e instanceof SpawnError ? e.message : `spawn failed: ${errorMessage(e)}`;
    return { reason, cause: "spawn_failed" };
  }
  // Completed in the background: the run is up as soon as it exists.
  const recorded = records ? recordChild(records.dir, record, child.pid) : Promise.resolve();
  return { child, record, recorded };
}
