/** Turning results into text for people (pure). */
import { formatDuration } from "../config/units.ts";
import type { ServerSummary, StatusDetail } from "../protocol/types.ts";
import { shellLine } from "../shell.ts";

/** Whether to colour: only on a terminal, and never with NO_COLOR set. */
export interface Style {
  readonly color: boolean;
}

/** The colour (SGR code) of each state, where colour is on. */
export const STATE_COLORS: Record<string, number> = {
  running: 32,
  starting: 36,
  stopping: 36,
  restarting: 33,
  blocked: 33,
  failed: 31,
  invalid: 31,
  stopped: 90,
};

function paint(style: Style, code: number | undefined, text: string): string {
  return style.color && code ? `\x1b[${code}m${text}\x1b[0m` : text;
}

/** The `list` table: NAME STATE PID PORT UPTIME RESTARTS CPU MEM HEALTH. */
export function formatList(rows: readonly ServerSummary[], style: Style): string {
  if (rows.length === 0) return "no servers configured\n";
  const header = ["NAME", "STATE", "PID", "PORT", "UPTIME", "RESTARTS", "CPU", "MEM", "HEALTH"];
  const cells = rows.map((r) => [
    r.name,
    r.config_error === undefined ? r.state : `${r.state} (config invalid)`,
    r.pid === undefined ? "-" : String(r.pid),
    r.port > 0 ? String(r.port) : "-",
    r.uptime_secs === undefined ? "-" : formatSecs(r.uptime_secs),
    String(r.restart_count),
    cpuCell(r),
    memCell(r),
    healthCell(r),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[], color?: number) =>
    c.map((v, i) => {
      const padded = i === c.length - 1 ? v : v.padEnd(widths[i]!);
      return i === 1 ? paint({ color: color !== undefined }, color, padded) : padded;
    }).join("  ").trimEnd();
  const out = [line(header)];
  cells.forEach((c, i) =>
    out.push(line(c, style.color ? STATE_COLORS[rows[i]!.state] : undefined))
  );
  return out.join("\n") + "\n";
}

/** The CPU column: a percentage of one core, or `-` without a run. */
export function cpuCell(r: ServerSummary): string {
  if (r.cpu_percent === undefined) return "-";
  return `${r.cpu_percent >= 100 ? Math.round(r.cpu_percent) : r.cpu_percent.toFixed(1)}%`;
}

/** The MEM column: resident memory, `12.4M`, or `-` without a run. */
export function memCell(r: ServerSummary): string {
  return r.rss_bytes === undefined ? "-" : formatBytes(r.rss_bytes);
}

/** `812K`, `12.4M`, `1.2G` (powers of 1024, as `ps` and `top` count). */
export function formatBytes(bytes: number): string {
  const units = ["B", "K", "M", "G", "T"];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u > 0 && v < 100 ? v.toFixed(1) : Math.round(v)}${units[u]}`;
}

/** The HEALTH column: `mcp ok 4ms`, `http unhealthy 12ms`, `tcp ?`, or `-` without checks. */
export function healthCell(r: ServerSummary): string {
  if (r.health === undefined) return "-";
  const word = r.health === "healthy" ? "ok" : r.health === "unknown" ? "?" : r.health;
  const ms = r.health_latency_ms === undefined || r.health === "unknown"
    ? ""
    : ` ${r.health_latency_ms}ms`;
  return `${r.health_kind ?? "check"} ${word}${ms}`;
}

/** `xy status <name>` for people. */
export function formatStatus(s: StatusDetail, style: Style, now: number): string {
  const rows: [string, string][] = [];
  const add = (k: string, v: string | undefined) => {
    if (v !== undefined && v !== "") rows.push([k, v]);
  };
  add("pid", s.pid?.toString());
  add("port", String(s.port));
  add("url", s.url);
  add("uptime", s.uptime_secs === undefined ? undefined : formatSecs(s.uptime_secs));
  add("restarts", String(s.restart_count));
  if (s.processes !== undefined) {
    add(
      "usage",
      `CPU ${cpuCell(s)} of a core, memory ${memCell(s)}, ` +
        `${s.processes} process${s.processes === 1 ? "" : "es"}`,
    );
  }
  if (s.last_exit_detail) {
    const e = s.last_exit_detail;
    const how = e.signal ? `signal ${e.signal}` : `code ${e.code}`;
    add("last exit", `${how}, ${formatDuration(now - e.at_unix_ms)} ago`);
  }
  if (s.config_error !== undefined) {
    add("config error", `invalid, runs as last loaded: ${s.config_error.split("\n").join("; ")}`);
  }
  add("last error", s.last_error);
  if (s.retry_at_unix_ms !== undefined) {
    add("next try", `in ${formatDuration(Math.max(0, s.retry_at_unix_ms - now))}`);
  }
  if (s.blocked_by) add("blocked", s.blocked_by);
  if (s.health !== undefined) {
    const p = s.last_probe;
    const check = s.health_check;
    const what = check ? `${check.kind}${check.path ? ` ${check.path}` : ""}` : "";
    add(
      "health",
      `${s.health}${what ? ` (${what})` : ""}` +
        (p ? `: ${p.message}, ${p.latency_ms}ms, ${formatDuration(now - p.at_unix_ms)} ago` : ""),
    );
  }
  if (s.mcp) {
    add(
      "mcp",
      `${s.mcp.name} ${s.mcp.version}, protocol ${s.mcp.protocol_version}` +
        (s.mcp.transport === "sse"
          ? ", over HTTP+SSE"
          : s.mcp.transport === "stdio"
          ? ", over its stdio"
          : ""),
    );
  }
  if (s.stdio) {
    const st = s.stdio;
    add(
      "stdio",
      `${st.sharing}, ${st.auth === "token" ? "token required" : "no token"}, ` +
        `${st.sessions.length} session${st.sessions.length === 1 ? "" : "s"}, ` +
        `${st.inflight} request${st.inflight === 1 ? "" : "s"} in flight`,
    );
  }
  add("command", shellLine([s.command, ...s.args]));
  add("working dir", s.working_dir);
  add("env", s.env_names.length ? s.env_names.join(", ") : undefined);
  add("policy", s.policy);
  add("autostart", s.autostart ? "yes" : "no");
  add("depends on", s.depends_on.length ? s.depends_on.join(", ") : undefined);
  add("config", s.config_file);
  add("log", s.log_file);
  if (s.log_write_errors > 0) {
    add("log errors", `${s.log_write_errors} lines could not be written to the file`);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  const out = [`${s.name}: ${paint(style, STATE_COLORS[s.state], s.state)}`];
  for (const [k, v] of rows) out.push(`  ${k.padEnd(width)}  ${v}`);
  if (s.transitions.length) {
    out.push("  transitions:");
    for (const t of s.transitions) {
      out.push(`    ${new Date(t.at_unix_ms).toISOString()}  ${t.from} → ${t.to}  ${t.reason}`);
    }
  }
  if (s.stdio?.sessions.length) {
    out.push("  sessions:");
    for (const x of s.stdio.sessions) {
      out.push(
        `    ${x.id}  ${
          x.client ?? "(client unknown: re-created)"
        }  protocol ${x.protocol_version}` +
          (x.pid === undefined ? "" : x.pid === null ? "  no process (idle)" : `  pid ${x.pid}`) +
          (x.inflight ? `  ${x.inflight} in flight` : ""),
      );
    }
  }
  if (s.stderr_tail.length) {
    out.push("  last stderr:");
    for (const l of s.stderr_tail) out.push(`    ${l}`);
  }
  return out.join("\n") + "\n";
}

/** Whole seconds for people: `0s`, `59s`, `1h 2m`. */
export function formatSecs(secs: number): string {
  return secs < 1 ? "0s" : formatDuration(secs * 1000);
}
