/**
 * What a {@link ServerHost} (host.ts) is made with, how long its requests may
 * take, and what it answers for a server whose actor was never made.
 */
import type { ServerConfig } from "../config/schema.ts";
import { fileSnapshot } from "../logs/capture.ts";
import type { FollowBatch } from "../logs/follow.ts";
import { segmentsOf } from "../logs/log_file.ts";
import type { ReapLog } from "../process/reap.ts";
import type { SpawnRecord } from "../process/records.ts";
import type { ActorPorts } from "./actor.ts";
import type { Command, Results } from "./messages.ts";
import { KILL_WAIT_MS } from "./model.ts";
import type { Snapshot } from "./snapshot.ts";

/** Where a host runs its actor. */
export type HostMode = "worker" | "inline";

/** Options of {@link ServerHost}. */
export interface HostOptions {
  readonly logDir: string;
  /** Where spawns are recorded for crash recovery, and by which daemon. */
  readonly records?: { readonly dir: string; readonly daemon: string };
  /** Where reaping after a dead worker is logged. */
  readonly log?: ReapLog;
  readonly mode?: HostMode;
  /** Ports for an inline actor (tests). */
  readonly ports?: ActorPorts;
  /** Called with every snapshot the actor publishes. */
  readonly onStatus?: (snapshot: Snapshot) => void;
  /** Called with every batch of log lines while somebody follows; the next comes once it returned. */
  readonly onLogs?: (name: string, batch: FollowBatch) => void;
  /**
   * Called when a recorded run's group is gone, to sweep what left the group;
   * without it the record is simply removed.
   */
  readonly onEnded?: (record: SpawnRecord) => void;
  /** Called when the worker died and was replaced (`replaced`), or could not be made. */
  readonly onWorkerError?: (message: string, replaced: boolean) => void;
  /** How long a status or logs request may take, and what a lifecycle one may take beyond its stop (tests shorten them). */
  readonly timeouts?: { readonly queryMs: number; readonly marginMs: number };
}

/** How long a status or log request may take. */
export const QUERY_TIMEOUT_MS = 10_000;
/** What a lifecycle command may take beyond its stop: a port check, a spawn. */
export const LIFECYCLE_MARGIN_MS = 15_000;

/** How long `kind` may take: a stop or start may wait out the grace, then SIGKILL. */
export function timeoutFor(kind: Command["kind"], config: ServerConfig, opts: HostOptions): number {
  const t = opts.timeouts ?? { queryMs: QUERY_TIMEOUT_MS, marginMs: LIFECYCLE_MARGIN_MS };
  if (kind === "status" || kind === "logs") return t.queryMs;
  return config.stop.graceMs + KILL_WAIT_MS + t.marginMs;
}

/**
 * The answer to `command` for a server never started, whose actor was never
 * made (`status` its first snapshot, `logs` from its files); null for a
 * command that needs one.
 */
export function unmadeAnswer(
  command: Command,
  s: { status: Snapshot; logFile: string; keep: number; numbered: number },
): Results[Command["kind"]] | null {
  switch (command.kind) {
    case "status":
      return s.status;
    case "stop":
      return "not_running";
    case "logs":
      return fileSnapshot(command.tail, () => segmentsOf(s.logFile, s.keep), s.numbered);
    default:
      return null;
  }
}
