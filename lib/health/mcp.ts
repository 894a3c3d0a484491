/**
 * The `mcp` probe: an MCP-level handshake at the server's endpoint, in both
 * eras of the protocol (docs/ARCHITECTURE.md, "Health"). First the current
 * one, `server/discover`; a server of the session era answers that with 400,
 * 404, 405 or a JSON-RPC error, and gets `initialize` instead — after which
 * its session is closed politely (`notifications/initialized`, then DELETE),
 * so probes never pile up sessions. A reply may be JSON or an SSE stream
 * (with, maybe, a priming event of empty data first). 401 or 403 means alive
 * but wanting credentials. A server that refuses both POSTs with a 4xx may
 * speak the HTTP+SSE transport of 2024-11-05 (`mcp "/sse"`): a GET opens an
 * event stream whose `endpoint` event says where to POST, and the answers come
 * back on the stream; closing it ends the session.
 */
import {
  answerOf,
  CURRENT_ERA,
  initializeRequest,
  MAX_ANSWER_BYTES,
  mcpInfo,
  type RpcAnswer,
} from "./mcp_info.ts";
import { probeSse } from "./mcp_sse.ts";
import { describeFailure, type McpInfo, type ProbeResult } from "./probe.ts";
import { SseParser } from "./sse.ts";

/** What one POST got back: its status and session, and the JSON-RPC answer when there was one. */
export interface Answer extends RpcAnswer {
  readonly status: number;
  readonly sessionId: string | null;
}

/** What a `server/discover` answer means: the server is up, wants credentials, or is of the session era. */
export function classifyDiscover(a: Answer): "ok" | "auth" | "fallback" {
  if (a.status === 401 || a.status === 403) return "auth";
  return mcpInfo(a.result) ? "ok" : "fallback";
}

/** Runs the handshake against `url` within `timeoutMs`. */
export async function probeMcp(url: string, timeoutMs: number): Promise<ProbeResult> {
  const t0 = performance.now();
  const latency = () => Math.round(performance.now() - t0);
  // A client of its own, without idle connections: no socket outlives the probe.
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  const signal = AbortSignal.timeout(timeoutMs);
  const auth = (status: number): ProbeResult => ({
    status: "needs-auth",
    message: `HTTP ${status}: needs auth`,
    latencyMs: latency(),
  });
  try {
    const discover = await post(client, url, {
      body: { jsonrpc: "2.0", id: 1, method: "server/discover", params: {} },
      headers: { "MCP-Protocol-Version": CURRENT_ERA, "Mcp-Method": "server/discover" },
      signal,
    });
    const era = classifyDiscover(discover);
    if (era === "auth") return auth(discover.status);
    if (era === "ok") {
      return healthy({ ...mcpInfo(discover.result)!, transport: "streamable-http" }, latency());
    }
    const init = await post(client, url, {
      body: initializeRequest(2),
      headers: {},
      signal,
    });
    if (init.status === 401 || init.status === 403) return auth(init.status);
    const found = mcpInfo(init.result);
    if (!found) {
      let why = notMcp(init);
      if (init.status >= 400 && init.status < 500) {
        const legacy = await probeSse(client, url, signal).catch((e): { failed: string } => ({
          failed: `${why}; over HTTP+SSE: ${describeFailure(e, timeoutMs)}`,
        }));
        if (legacy && "auth" in legacy) return auth(legacy.auth);
        if (legacy && "info" in legacy) {
          return healthy(legacy.info, Math.round(legacy.answeredAt - t0));
        }
        if (legacy) why = legacy.failed;
      }
      return { status: "failed", message: why, latencyMs: latency() };
    }
    const info: McpInfo = { ...found, transport: "streamable-http" };
    const took = latency();
    await closeSession(client, url, { session: init.sessionId, info, timeoutMs });
    return healthy(info, took);
  } catch (e) {
    return { status: "failed", message: describeFailure(e, timeoutMs), latencyMs: latency() };
  } finally {
    client.close();
  }
}

function healthy(info: McpInfo, latencyMs: number): ProbeResult {
  return {
    status: "healthy",
    message: `${info.name} ${info.version}`.trim() + ` (protocol ${info.protocolVersion})`,
    latencyMs,
    mcp: info,
  };
}

/** Why an `initialize` answer is not a healthy MCP server's. */
function notMcp(a: Answer): string {
  if (a.status < 200 || a.status >= 300) return `HTTP ${a.status} to initialize`;
  if (a.error) return `initialize failed: ${a.error.message ?? `error ${a.error.code}`}`;
  return "not an MCP server: initialize has no serverInfo";
}

/** Ends the session `initialize` opened: the notification MCP expects, then DELETE (405 is fine). */
async function closeSession(
  client: Deno.HttpClient,
  url: string,
  opts: { session: string | null; info: McpInfo; timeoutMs: number },
) {
  const headers: Record<string, string> = { "MCP-Protocol-Version": opts.info.protocolVersion };
  if (opts.session) headers["Mcp-Session-Id"] = opts.session;
  const signal = AbortSignal.timeout(opts.timeoutMs);
  try {
    await post(client, url, {
      body: { jsonrpc: "2.0", method: "notifications/initialized" },
      headers,
      signal,
    });
    if (!opts.session) return;
    const res = await fetch(url, { method: "DELETE", headers, client, signal });
    await res.body?.cancel();
  } catch {
    // The probe's answer stands; a server that cannot take these closes the session itself.
  }
}

/** POSTs one JSON-RPC message and reads the answer with its id from JSON or SSE. */
async function post(
  client: Deno.HttpClient,
  url: string,
  req: {
    body: { id?: number } & Record<string, unknown>;
    headers: Record<string, string>;
    signal: AbortSignal;
  },
): Promise<Answer> {
  const res = await fetch(url, {
    method: "POST",
    client,
    signal: req.signal,
    headers: {
      "Content-Type": "application/json",
      "Accept": "application/json, text/event-stream",
      ...req.headers,
    },
    body: JSON.stringify(req.body),
  });
  const base = { status: res.status, sessionId: res.headers.get("mcp-session-id") };
  if (!res.ok || req.body.id === undefined || !res.body) {
    await res.body?.cancel();
    return base;
  }
  const sse = (res.headers.get("content-type") ?? "").includes("text/event-stream");
  const message = await readMessage(res.body, { sse, id: req.body.id });
  return { ...base, ...message };
}

/** Reads until the JSON-RPC response with `id` (or the end, or the size cap), then stops reading. */
async function readMessage(
  body: ReadableStream<Uint8Array>,
  opts: { sse: boolean; id: number },
): Promise<RpcAnswer> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  let text = "";
  try {
    while (text.length <= MAX_ANSWER_BYTES) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      if (!opts.sse) continue;
      for (const ev of parser.push(value)) {
        // A priming event has empty data; other events are not our answer.
        if (ev.event !== "message" || ev.data === "") continue;
        const found = answerOf(ev.data, opts.id);
        if (found) return found;
      }
    }
    return opts.sse ? {} : answerOf(text, opts.id) ?? {};
  } finally {
    await reader.cancel().catch(() => {});
  }
}
