/**
 * The MCP probe over the HTTP+SSE transport of protocol 2024-11-05, which
 * servers of that time still speak (`mcp "/sse"`): mcp.ts turns to it when a
 * server refuses both of its POSTs with a 4xx.
 */
import { answerOf, initializeRequest, MAX_ANSWER_BYTES, mcpInfo } from "./mcp_info.ts";
import type { McpInfo } from "./probe.ts";
import { type SseEvent, SseParser } from "./sse.ts";

/** What the HTTP+SSE transport gave: a server, a wish for credentials, or a reason it failed. */
export type SseOutcome =
  | { readonly info: McpInfo; readonly answeredAt: number }
  | { readonly auth: number }
  | { readonly failed: string };

/**
 * The handshake over the HTTP+SSE transport (protocol 2024-11-05): GET `url`
 * for an event stream, POST `initialize` to the endpoint its `endpoint` event
 * names (on the same origin only), read the answer from the stream, say
 * `notifications/initialized`, and close the stream, which ends the session.
 * Undefined when `url` serves no event stream: the server is not of that kind.
 */
export async function probeSse(
  client: Deno.HttpClient,
  url: string,
  signal: AbortSignal,
): Promise<SseOutcome | undefined> {
  const done = new AbortController();
  const res = await fetch(url, {
    client,
    signal: AbortSignal.any([signal, done.signal]),
    headers: { "Accept": "text/event-stream" },
  });
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel();
    return { auth: res.status };
  }
  if (!res.ok || !res.body || !(res.headers.get("content-type") ?? "").includes("event-stream")) {
    await res.body?.cancel();
    return undefined;
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  const pending: SseEvent[] = [];
  let read = 0;
  const next = async (): Promise<SseEvent | undefined> => {
    while (pending.length === 0) {
      if (read > MAX_ANSWER_BYTES) return undefined;
      const { value, done } = await reader.read();
      if (done) return undefined;
      read += value.length;
      pending.push(...parser.push(value));
    }
    return pending.shift();
  };
  try {
    let ev = await next();
    while (ev && ev.event !== "endpoint") ev = await next();
    if (!ev) return { failed: "an SSE stream without an endpoint event" };
    const endpoint = new URL(ev.data.trim(), url);
    if (endpoint.origin !== new URL(url).origin) {
      return { failed: `the SSE endpoint is on another origin: ${endpoint.origin}` };
    }
    const send = async (body: Record<string, unknown>) => {
      const r = await fetch(endpoint, {
        method: "POST",
        client,
        signal,
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      await r.body?.cancel();
      return r.status;
    };
    const posted = await send(initializeRequest(2));
    if (posted === 401 || posted === 403) return { auth: posted };
    if (posted < 200 || posted >= 300) return { failed: `HTTP ${posted} to initialize over SSE` };
    for (ev = await next(); ev; ev = await next()) {
      if (ev.event !== "message" || ev.data === "") continue;
      const answer = answerOf(ev.data, 2);
      if (!answer) continue;
      const found = mcpInfo(answer.result);
      if (!found) {
        const why = answer.error?.message ?? "its answer has no serverInfo";
        return { failed: `initialize over SSE failed: ${why}` };
      }
      const answeredAt = performance.now();
      await send({ jsonrpc: "2.0", method: "notifications/initialized" }).catch(() => 0);
      return { info: { ...found, transport: "sse" }, answeredAt };
    }
    return { failed: "the SSE stream ended before the answer to initialize" };
  } finally {
    done.abort();
    await reader.cancel().catch(() => {});
  }
}
