/**
 * Domain → wire: the one place that turns a server's config and its actor's
 * snapshot into the protocol's snake_case shapes (docs/PROTOCOL.md).
 */
import type { InvalidFile } from "../config/load.ts";
import type { HealthConfig, ServerConfig } from "../config/schema.ts";
import { probeOk, type ProbeResult } from "../health/probe.ts";
import type { Snapshot } from "../supervisor/core/snapshot.ts";
import type { Waiting } from "./orchestrator.ts";
import type {
  ServerSummary,
  StatusDetail,
  WireInvalid,
  WireProbe,
  WireWaiting,
} from "../protocol/types.ts";

/** What `toWire` needs of a server: its config, its latest snapshot and its log file. */
export interface ServerView {
  readonly config: ServerConfig;
  readonly status: Snapshot;
  readonly logFile: string;
}

/**
 * How long a server without health checks must have stayed alive to count as
 * up for `start --wait`: one that exits right after it spawned is a failure,
 * not a server that came up.
 */
export const STAYED_UP_MS = 1_000;

/**
 * The `status` answer for a server at time `now`; `waiting` names the
 * dependencies it is blocked on (null when it is not blocked).
 */
export function toWire(
  server: ServerView,
  now: number,
  waiting: readonly Waiting[] | null = null,
  invalid?: InvalidFile,
): StatusDetail {
  const { config: c, status: s } = server;
  const url = c.health?.kind === "mcp" ? `http://127.0.0.1:${c.port}${c.health.path}` : undefined;
  const exit = s.lastExit;
  const ready = !waiting && s.state === "running" && s.health.status !== "unhealthy" &&
    (c.health !== undefined || (s.since !== null && now - s.since >= STAYED_UP_MS));
  return {
    name: c.name,
    state: waiting ? "blocked" : s.state,
    ready,
    ...(s.pid === null ? {} : { pid: s.pid }),
    port: c.port,
    ...(url === undefined ? {} : { url }),
    ...(s.since === null ? {} : {
      since_unix_ms: s.since,
      uptime_secs: Math.max(0, Math.floor((now - s.since) / 1000)),
    }),
    restart_count: s.restartCount,
    ...(exit?.code == null ? {} : { last_exit: exit.code }),
    ...(exit?.signal == null ? {} : { last_signal: exit.signal }),
    ...(exit === null
      ? {}
      : { last_exit_detail: { code: exit.code, signal: exit.signal, at_unix_ms: exit.at } }),
    ...(c.health
      ? {
        health: s.health.status,
        health_kind: c.health.kind,
        ...(s.health.last ? { health_latency_ms: s.health.last.latencyMs } : {}),
      }
      : {}),
    ...(invalid ? { config_error: invalidToWire(invalid).error } : {}),
    ...(s.lastError === null ? {} : { last_error: s.lastError }),
    ...(s.retryAt === null ? {} : { retry_at_unix_ms: s.retryAt }),
    transitions: s.transitions.map((t) => ({
      from: t.from,
      to: t.to,
      at_unix_ms: t.at,
      reason: t.reason,
    })),
    stderr_tail: s.stderrTail,
    log_file: server.logFile,
    log_write_errors: s.logWriteErrors,
    config_file: c.file,
    command: c.command,
    args: c.args,
    env_names: Object.keys(c.env),
    ...(c.workingDir === undefined ? {} : { working_dir: c.workingDir }),
    autostart: c.autostart,
    depends_on: c.dependsOn,
    policy: c.restart.policy,
    ...(c.health ? { health_check: healthCheck(c.health) } : {}),
    ...(s.health.last ? { last_probe: probe(s.health.last) } : {}),
    ...(waiting
      ? {
        waiting_for: waiting.map(waitingToWire),
        blocked_by: waiting.length ? describeWaits(waiting) : "its dependencies are up: starting",
      }
      : {}),
    ...(s.health.last?.mcp
      ? {
        mcp: {
          name: s.health.last.mcp.name,
          version: s.health.last.mcp.version,
          protocol_version: s.health.last.mcp.protocolVersion,
          transport: s.health.last.mcp.transport,
        },
      }
      : {}),
  };
}

function waitingToWire(w: Waiting): WireWaiting {
  return {
    name: w.name,
    state: w.state,
    ...(w.waiting ? { waiting_for: w.waiting.map(waitingToWire) } : {}),
  };
}

/** "waiting for api (blocked: waiting for db (starting))": each dependency down to the root cause. */
function describeWaits(waits: readonly Waiting[]): string {
  return `waiting for ${
    waits.map((w) => `${w.name} (${w.state}${w.waiting ? `: ${describeWaits(w.waiting)}` : ""})`)
      .join(", ")
  }`;
}

function healthCheck(h: HealthConfig): NonNullable<StatusDetail["health_check"]> {
  return {
    kind: h.kind,
    ...(h.path === undefined ? {} : { path: h.path }),
    interval_ms: h.intervalMs,
    timeout_ms: h.timeoutMs,
    retries: h.retries,
    start_period_ms: h.startPeriodMs,
  };
}

function probe(p: ProbeResult & { at: number }): WireProbe {
  return { at_unix_ms: p.at, latency_ms: p.latencyMs, ok: probeOk(p), message: p.message };
}

/** The `list` row of a status. */
export function summarize(s: StatusDetail): ServerSummary {
  return {
    name: s.name,
    state: s.state,
    ...(s.pid === undefined ? {} : { pid: s.pid }),
    port: s.port,
    ...(s.url === undefined ? {} : { url: s.url }),
    ...(s.uptime_secs === undefined ? {} : { uptime_secs: s.uptime_secs }),
    restart_count: s.restart_count,
    ...(s.last_exit === undefined ? {} : { last_exit: s.last_exit }),
    ...(s.last_signal === undefined ? {} : { last_signal: s.last_signal }),
    ...(s.health === undefined ? {} : { health: s.health }),
    ...(s.health_kind === undefined ? {} : { health_kind: s.health_kind }),
    ...(s.health_latency_ms === undefined ? {} : { health_latency_ms: s.health_latency_ms }),
    ...(s.blocked_by === undefined ? {} : { blocked_by: s.blocked_by }),
    ...(s.config_error === undefined ? {} : { config_error: s.config_error }),
    ...(s.mcp === undefined ? {} : { transport: s.mcp.transport }),
  };
}

/** The `list` row of a file that did not load. */
export function invalidRow(f: InvalidFile): ServerSummary {
  return { name: f.name, state: "invalid", port: 0, restart_count: 0 };
}

/** A file that did not load, with all its errors on separate lines. */
export function invalidToWire(f: InvalidFile): WireInvalid {
  return { name: f.name, file: f.file, error: f.errors.map((e) => e.message).join("\n") };
}
