/**
 * What both MCP probes (mcp.ts over streamable HTTP, mcp_sse.ts over the
 * HTTP+SSE transport) say and read: the protocol versions, the `initialize`
 * request, and the server's description in an answer.
 */
import { VERSION } from "../version.ts";
import type { McpInfo } from "./probe.ts";

/** The protocol version of the current era, sent with `server/discover`. */
export const CURRENT_ERA = "2026-07-28";
/** The protocol version offered in `initialize`. */
export const SESSION_ERA = "2025-11-25";
/** The most a probe reads of one answer. */
export const MAX_ANSWER_BYTES = 1024 * 1024;

/** The server's name, version and protocol version in an `initialize` or `server/discover` result. */
export function mcpInfo(result: unknown): Omit<McpInfo, "transport"> | undefined {
  if (typeof result !== "object" || result === null) return undefined;
  const r = result as {
    protocolVersion?: unknown;
    serverInfo?: { name?: unknown; version?: unknown };
  };
  if (typeof r.protocolVersion !== "string" || typeof r.serverInfo?.name !== "string") {
    return undefined;
  }
  const version = typeof r.serverInfo.version === "string" ? r.serverInfo.version : "";
  return { name: r.serverInfo.name, version, protocolVersion: r.protocolVersion };
}

/** The `initialize` request a probe sends, with `id`. */
export function initializeRequest(id: number) {
  return {
    jsonrpc: "2.0",
    id,
    method: "initialize",
    params: {
      protocolVersion: SESSION_ERA,
      capabilities: {},
      clientInfo: { name: "xy", version: VERSION },
    },
  };
}

/** A JSON-RPC answer: its result, or its error. */
export interface RpcAnswer {
  readonly result?: unknown;
  readonly error?: { readonly code?: number; readonly message?: string };
}

/** The answer to request `id` in the JSON-RPC message `data`; undefined for anything else. */
export function answerOf(data: string, id: number): RpcAnswer | undefined {
  let msg: { id?: unknown; result?: unknown; error?: RpcAnswer["error"] };
  try {
    msg = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (msg?.id !== id) return undefined;
  if ("error" in msg) return { error: msg.error ?? {} };
  return "result" in msg ? { result: msg.result } : undefined;
}
