/**
 * Health probes: does the server answer, not only run? One function per kind
 * (tcp.ts, http.ts, mcp.ts) behind {@link runProbe}. Each has a deadline,
 * reports failure as a result rather than throwing, and leaves no socket or
 * MCP session behind.
 */
import type { HealthConfig } from "../config/schema.ts";
import { errorMessage } from "../error_message.ts";

/** What a server speaking MCP said about itself. */
export interface McpInfo {
  readonly name: string;
  readonly version: string;
  readonly protocolVersion: string;
  /**
   * How it was reached: streamable HTTP, the HTTP+SSE transport of 2024-11-05,
   * or its stdio (a stdio server, which xy serves over streamable HTTP).
   */
  readonly transport: "streamable-http" | "sse" | "stdio";
}

/** The outcome of one probe. `needs-auth`: it answered 401 or 403 — alive, but wants credentials. */
export interface ProbeResult {
  readonly status: "healthy" | "needs-auth" | "failed";
  /** What happened, for status and reasons: "HTTP 200", "connection refused", … */
  readonly message: string;
  readonly latencyMs: number;
  readonly mcp?: McpInfo;
}

/** Runs a probe of `config`'s kind against `127.0.0.1:<port>`. */
export type Prober = (config: HealthConfig, port: number) => Promise<ProbeResult>;

/** True when a result counts as the server being up. */
export function probeOk(r: ProbeResult): boolean {
  return r.status !== "failed";
}

/** A probe's message when nothing listens on the port. */
const REFUSED = "connection refused";

/** A failure said briefly: "connection refused", "timed out after 2s". */
export function describeFailure(e: unknown, timeoutMs: number): string {
  // fetch wraps the reason ("fetch failed"); the innermost cause says what happened.
  let inner = e;
  while (inner instanceof Error && inner.cause !== undefined) inner = inner.cause;
  for (const x of [e, inner]) {
    if (x instanceof DOMException && (x.name === "TimeoutError" || x.name === "AbortError")) {
      return `timed out after ${formatMs(timeoutMs)}`;
    }
    if (x instanceof Deno.errors.ConnectionRefused) return REFUSED;
  }
  const text = errorMessage(inner);
  if (/connection refused/i.test(text)) return REFUSED;
  if (/connection reset/i.test(text)) return "connection reset";
  return text;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The real prober: the probe the config names, each in its own module. */
export const realProber: Prober = async (config, port) => {
  const { probeTcp } = await import("./tcp.ts");
  const { probeHttp } = await import("./http.ts");
  const { probeMcp } = await import("./mcp.ts");
  let r: ProbeResult;
  switch (config.kind) {
    case "tcp":
      r = await probeTcp(port, config.timeoutMs);
      break;
    case "http":
      r = await probeHttp(`http://127.0.0.1:${port}${config.path ?? "/"}`, config.timeoutMs);
      break;
    case "mcp":
      r = await probeMcp(`http://127.0.0.1:${port}${config.path ?? "/mcp"}`, config.timeoutMs);
      break;
    case "stdio":
      // Asked of the child over its stdio by the supervisor's bridge, never over the network.
      throw new Error("a stdio server is checked by its bridge, not by a network probe");
  }
  if (r.message !== REFUSED) return r;
  // A server told to listen on "localhost" may have bound [::1] alone (Node does, where
  // getaddrinfo puts IPv6 first): not reachable at 127.0.0.1, by xy or by MCP clients.
  const v6 = await probeTcp(port, config.timeoutMs, "::1");
  return v6.status === "healthy" ? { ...r, message: `${REFUSED}: ${ONLY_V6}` } : r;
};

/** What a refusal at 127.0.0.1 says when the port answers at [::1]. */
export const ONLY_V6 =
  "it listens on [::1] only; make it listen on 127.0.0.1 (or 0.0.0.0), where probes and clients reach it";
