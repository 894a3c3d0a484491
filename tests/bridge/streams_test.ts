/** A POST's answer: plain JSON or an SSE stream, as SPEC §11 and the client's `Accept` choose. */
import { assertEquals } from "../assert.ts";
import { Exchange, prefersStream } from "../../lib/bridge/streams.ts";

const answer = { jsonrpc: "2.0" as const, id: 1, result: { ok: true } };
const progress = {
  jsonrpc: "2.0" as const,
  method: "notifications/progress",
  params: { progressToken: 1, progress: 1 },
};

Deno.test("streams: an answer that comes first is plain JSON", async () => {
  const e = new Exchange(1, { "Mcp-Session-Id": "s" });
  e.push(answer);
  const res = await e.response;
  assertEquals(res.headers.get("content-type"), "application/json");
  assertEquals(res.headers.get("mcp-session-id"), "s");
  assertEquals(await res.json(), answer);
  assertEquals(e.done, true);
});

Deno.test("streams: a notification before the answer opens an SSE stream, which the answer ends", async () => {
  const e = new Exchange(1, {});
  e.push(progress);
  e.push(answer);
  const res = await e.response;
  assertEquals(res.headers.get("content-type"), "text/event-stream");
  assertEquals(
    await res.text(),
    `event: message\ndata: ${JSON.stringify(progress)}\n\n` +
      `event: message\ndata: ${JSON.stringify(answer)}\n\n`,
  );
});

Deno.test("streams: a client that prefers a stream gets one, even for an answer alone", async () => {
  const e = new Exchange(1, {}, true);
  e.push(answer);
  const res = await e.response;
  assertEquals(res.headers.get("content-type"), "text/event-stream");
  assertEquals(await res.text(), `event: message\ndata: ${JSON.stringify(answer)}\n\n`);
});

Deno.test("streams: a stream is preferred when Accept names it before JSON", () => {
  assertEquals(prefersStream("text/event-stream, application/json"), true);
  assertEquals(prefersStream("text/event-stream"), true);
  assertEquals(prefersStream("Text/Event-Stream;q=1 , application/json"), true);
  // What the official SDK's client sends: JSON first.
  assertEquals(prefersStream("application/json, text/event-stream"), false);
  assertEquals(prefersStream("application/json"), false);
  assertEquals(prefersStream("*/*"), false);
  assertEquals(prefersStream(null), false);
});
