/**
 * Domain → wire: the one place that turns a server's config and its actor's
 * snapshot into the protocol's snake_case shapes (docs/PROTOCOL.md). `list`
 * rows are made directly, not cut from a full status.
 */
import type { InvalidFile } from "../config/load.ts";
import type { BridgeStatus } from "../bridge/bridge.ts";
import type { HealthConfig, ServerConfig, StdioConfig } from "../config/schema.ts";
import { probeOk, type ProbeResult } from "../health/probe.ts";
import type { Snapshot } from "../supervisor/core/snapshot.ts";
import type { BlockedOn } from "./orchestrator.ts";
import type { ServerProcs, Usage } from "../process/usage.ts";
import type {
  ServerSummary,
  StatusDetail,
  WireInvalid,
  WireProbe,
  WireStdio,
  WireWaiting,
} from "../protocol/types.ts";

/** One server as the daemon knows it: its config, its latest snapshot, and what it waits for. */
export interface ServerView {
  readonly config: ServerConfig;
  readonly status: Snapshot;
  readonly logFile: string;
  /** While `blocked`: the dependencies not up, each with what holds it back; else null. */
  readonly blockedOn: readonly BlockedOn[] | null;
  /** Its file, when it no longer loads (the server runs as the last valid one said). */
  readonly invalid?: InvalidFile;
  /** What its processes cost, while it has a run (process/usage.ts). */
  readonly usage?: Usage;
}

/**
 * Which processes are `view`'s server's: its group, and those carrying its
 * run's mark; null with no run. A per-session server's run has no group of
 * its own (its first child is gone): its children are found by the mark.
 */
export function processesOf(view: ServerView): ServerProcs | null {
  const s = view.status;
  if (s.pid === null && !s.run) return null;
  const group = s.pid !== null && view.config.stdio?.sharing !== "per-session";
  return { groups: group ? [s.pid!] : [], runs: s.run ? [s.run] : [] };
}

/**
 * How long a server without health checks must have stayed alive to count as
 * up for `start --wait`: one that exits right after it spawned is a failure,
 * not a server that came up.
 */
export const STAYED_UP_MS = 1_000;

/** The `list` row of a server at time `now`. */
export function summaryOf(view: ServerView, now: number): ServerSummary {
  const { config: c, status: s } = view;
  const url = urlOf(c);
  const exit = s.lastExit;
  const mcp = s.health.last?.mcp;
  return {
    name: c.name,
    state: s.state,
    // A per-session server's run has no process of its own to show: its sessions' are in `stdio`.
    ...(s.pid === null || c.stdio?.sharing === "per-session" ? {} : { pid: s.pid }),
    port: c.port,
    ...(url === undefined ? {} : { url }),
    ...(s.since === null ? {} : { uptime_secs: Math.max(0, Math.floor((now - s.since) / 1000)) }),
    restart_count: s.restartCount,
    ...(exit?.code == null ? {} : { last_exit: exit.code }),
    ...(exit?.signal == null ? {} : { last_signal: exit.signal }),
    ...(c.health
      ? {
        health: s.health.status,
        health_kind: c.health.kind,
        ...(s.health.last ? { health_latency_ms: s.health.last.latencyMs } : {}),
      }
      : {}),
    ...(view.blockedOn ? { blocked_by: describeBlocked(view.blockedOn) } : {}),
    ...(view.invalid ? { config_error: invalidToWire(view.invalid).error } : {}),
    // What clients speak to reach it: a stdio server is served over streamable HTTP.
    ...(mcp ? { transport: mcp.transport === "sse" ? "sse" : "streamable-http" } : {}),
    ...(view.usage
      ? {
        cpu_percent: Math.round(view.usage.cpuPercent * 10) / 10,
        rss_bytes: view.usage.rssBytes,
        processes: view.usage.processes,
      }
      : {}),
  };
}

/** The `status` answer for a server at time `now`. */
export function statusOf(view: ServerView, now: number): StatusDetail {
  const { config: c, status: s } = view;
  const exit = s.lastExit;
  const mcp = s.health.last?.mcp;
  const ready = s.state === "running" && s.health.status !== "unhealthy" &&
    (c.health !== undefined || (s.since !== null && now - s.since >= STAYED_UP_MS));
  return {
    ...summaryOf(view, now),
    ready,
    ...(s.since === null ? {} : { since_unix_ms: s.since }),
    ...(exit === null
      ? {}
      : { last_exit_detail: { code: exit.code, signal: exit.signal, at_unix_ms: exit.at } }),
    ...(s.lastError === null ? {} : { last_error: s.lastError }),
    ...(s.retryAt === null ? {} : { retry_at_unix_ms: s.retryAt }),
    transitions: s.transitions.map((t) => ({
      from: t.from,
      to: t.to,
      at_unix_ms: t.at,
      reason: t.reason,
    })),
    stderr_tail: s.stderrTail,
    log_file: view.logFile,
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
    ...(view.blockedOn ? { waiting_for: view.blockedOn.map(blockedToWire) } : {}),
    ...(c.stdio ? { stdio: stdioToWire(c.stdio, s.bridge) } : {}),
    ...(mcp
      ? {
        mcp: {
          name: mcp.name,
          version: mcp.version,
          protocol_version: mcp.protocolVersion,
          transport: mcp.transport,
        },
      }
      : {}),
  };
}

/** Where MCP clients reach a server: its health `mcp` path on its port, or xy's `/mcp` for a stdio one. */
function urlOf(c: ServerConfig): string | undefined {
  if (c.transport === "stdio") return `http://127.0.0.1:${c.port}/mcp`;
  return c.health?.kind === "mcp" ? `http://127.0.0.1:${c.port}${c.health.path}` : undefined;
}

function stdioToWire(c: StdioConfig, b: BridgeStatus | undefined): WireStdio {
  return {
    sharing: c.sharing,
    auth: c.auth,
    sessions: (b?.sessions ?? []).map((x) => ({
      id: x.id,
      client: x.clientInfo
        ? `${x.clientInfo.name ?? "?"}${x.clientInfo.version ? ` ${x.clientInfo.version}` : ""}`
        : null,
      protocol_version: x.protocolVersion,
      inflight: x.inflight,
      ...(x.pid === undefined ? {} : { pid: x.pid }),
    })),
    inflight: b?.inflight ?? 0,
  };
}

function blockedToWire(b: BlockedOn): WireWaiting {
  return {
    name: b.name,
    state: b.state,
    ...(b.blockedOn ? { waiting_for: b.blockedOn.map(blockedToWire) } : {}),
  };
}

/** "waiting for api (blocked: waiting for db (starting))": each dependency down to the root cause. */
function describeBlocked(on: readonly BlockedOn[]): string {
  if (on.length === 0) return "its dependencies are up: starting";
  return `waiting for ${
    on.map((b) => `${b.name} (${b.state}${b.blockedOn ? `: ${describeBlocked(b.blockedOn)}` : ""})`)
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

/** The `list` row of a file that did not load. */
export function invalidRow(f: InvalidFile): ServerSummary {
  return { name: f.name, state: "invalid", port: 0, restart_count: 0 };
}

/** A file that did not load, with all its errors on separate lines. */
export function invalidToWire(f: InvalidFile): WireInvalid {
  return { name: f.name, file: f.file, error: f.errors.map((e) => e.message).join("\n") };
}
