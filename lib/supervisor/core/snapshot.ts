/**
 * What an actor publishes about its server: a plain, camelCase domain
 * snapshot, posted on every change. The supervisor knows nothing of the wire;
 * the daemon turns this into the protocol's shape (daemon/wire.ts).
 */
import type { BridgeStatus } from "../../bridge/bridge.ts";
import type { ExitInfo, FailureCause, Health, Model, StateKind, Transition } from "./model.ts";
import { pidOf } from "./model.ts";

/** One server's runtime state. Times are epoch milliseconds. */
export interface Snapshot {
  readonly name: string;
  readonly state: StateKind;
  readonly pid: number | null;
  /** When the current run (or stop) began; null when no process is meant to be there. */
  readonly since: number | null;
  /** Automatic restarts since the daemon started. */
  readonly restartCount: number;
  readonly lastExit: ExitInfo | null;
  readonly lastError: string | null;
  /** Why the server is `failed`, when it is. */
  readonly failure: FailureCause | null;
  /** When the next automatic start is due, while `restarting`. */
  readonly retryAt: number | null;
  readonly transitions: readonly Transition[];
  /** The last stderr lines, while `failed` or `restarting`. */
  readonly stderrTail: readonly string[];
  /** Lines that could not be written to the log file. */
  readonly logWriteErrors: number;
  /** What the probes say (`unknown` until one came back, and without health checks). */
  readonly health: Health;
  /** A stdio server's endpoint: the child's serverInfo, the sessions and requests in flight. */
  readonly bridge?: BridgeStatus;
  /** The mark (`XY_RUN`) every process of its live run carries. */
  readonly run?: string;
}

/** How many stderr lines a snapshot carries for a failed or restarting server. */
export const STDERR_TAIL = 10;

/** The snapshot of `model`; `stderrTail(n)` is asked only when the state shows it. */
export function snapshotOf(
  name: string,
  model: Model,
  logs: { stderrTail(n: number): readonly string[]; readonly writeErrors: number },
): Snapshot {
  const s = model.state;
  const since = s.kind === "running" || s.kind === "starting" || s.kind === "stopping"
    ? s.since
    : null;
  const showStderr = s.kind === "failed" || s.kind === "restarting";
  return {
    name,
    state: s.kind,
    pid: pidOf(s),
    since,
    restartCount: model.restartCount,
    lastExit: model.lastExit,
    lastError: model.lastError,
    failure: s.kind === "failed" ? s.cause : null,
    retryAt: s.kind === "restarting" ? s.until : null,
    transitions: model.transitions,
    stderrTail: showStderr ? logs.stderrTail(STDERR_TAIL) : [],
    logWriteErrors: logs.writeErrors,
    health: model.health,
  };
}

/** What a snapshot reads of the logs of a server that has none yet. */
export const NO_LOGS: { stderrTail(n: number): readonly string[]; readonly writeErrors: number } = {
  stderrTail: () => [],
  writeErrors: 0,
};
