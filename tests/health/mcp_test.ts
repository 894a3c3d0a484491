/** The MCP probe against small servers of each kind, run in this process. */
import { assert, assertEquals } from "../assert.ts";
import { classifyDiscover, probeMcp } from "../../lib/health/mcp.ts";
import { waitFor } from "../integration/harness.ts";

/** Serves `handler` on a free port for the length of `body`. */
async function serving(
  handler: (req: Request, body: Record<string, unknown> | null) => Response | Promise<Response>,
  body: (url: string) => Promise<void>,
) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const text = req.method === "POST" ? await req.text() : "";
    return await handler(req, text ? JSON.parse(text) : null);
  });
  try {
    await body(`http://127.0.0.1:${server.addr.port}/mcp`);
  } finally {
    await server.shutdown();
  }
}

const info = (protocolVersion: string) => ({
  protocolVersion,
  capabilities: {},
  serverInfo: { name: "fixture", version: "2.0.0" },
});
const rpc = (id: unknown, result: unknown) => Response.json({ jsonrpc: "2.0", id, result });

Deno.test("mcp probe: a server of the current era answers server/discover, and that is enough", async () => {
  const seen: string[] = [];
  await serving((req, msg) => {
    seen.push(`${req.method} ${msg?.method} ${req.headers.get("mcp-protocol-version")}`);
    return rpc(msg?.id, info("2026-07-28"));
  }, async (url) => {
    const r = await probeMcp(url, 2000);
    assertEquals(r.status, "healthy");
    assertEquals(r.mcp, {
      name: "fixture",
      version: "2.0.0",
      protocolVersion: "2026-07-28",
      transport: "streamable-http",
    });
  });
  assertEquals(seen, ["POST server/discover 2026-07-28"]);
});

Deno.test("mcp probe: a session-era server gets initialize, then its session is closed politely", async () => {
  const seen: string[] = [];
  await serving((req, msg) => {
    seen.push(`${req.method} ${msg?.method ?? ""} ${req.headers.get("mcp-session-id") ?? "-"}`);
    if (req.method === "DELETE") return new Response(null, { status: 200 });
    if (msg?.method === "server/discover") {
      return Response.json({ jsonrpc: "2.0", id: null, error: { code: -32600, message: "no" } }, {
        status: 400,
      });
    }
    if (msg?.method === "notifications/initialized") return new Response(null, { status: 202 });
    // An SSE answer with a priming event of empty data first.
    const body = `id: 0\ndata: \n\nevent: message\ndata: ${
      JSON.stringify({ jsonrpc: "2.0", id: msg?.id, result: info("2025-11-25") })
    }\n\n`;
    return new Response(body, {
      headers: { "content-type": "text/event-stream", "mcp-session-id": "s-1" },
    });
  }, async (url) => {
    const r = await probeMcp(url, 2000);
    assertEquals(r.status, "healthy");
    assertEquals(r.mcp?.protocolVersion, "2025-11-25");
  });
  assertEquals(seen, [
    "POST server/discover -",
    "POST initialize -",
    "POST notifications/initialized s-1",
    "DELETE  s-1",
  ]);
});

Deno.test("mcp probe: 401 or 403 is alive but needs auth; a page that is not MCP fails; a closed port fails", async () => {
  await serving(() => new Response("login", { status: 401 }), async (url) => {
    const r = await probeMcp(url, 2000);
    assertEquals([r.status, r.message], ["needs-auth", "HTTP 401: needs auth"]);
  });
  await serving(() => new Response("<html>hello</html>"), async (url) => {
    const r = await probeMcp(url, 2000);
    assertEquals(r.status, "failed");
    assertEquals(r.message, "not an MCP server: initialize has no serverInfo");
  });
  await serving(() => new Response("boom", { status: 500 }), async (url) => {
    assertEquals((await probeMcp(url, 2000)).message, "HTTP 500 to initialize");
  });
  const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (free.addr as Deno.NetAddr).port;
  free.close();
  assertEquals(
    (await probeMcp(`http://127.0.0.1:${port}/mcp`, 2000)).message,
    "connection refused",
  );
});

Deno.test("mcp probe: a server that never answers times out within the probe's timeout", async () => {
  // It answers, but only long after the probe gave up.
  const late = () => new Promise<Response>((r) => setTimeout(() => r(new Response("late")), 800));
  await serving(late, async (url) => {
    const t0 = Date.now();
    const r = await probeMcp(url, 300);
    assertEquals([r.status, r.message], ["failed", "timed out after 300ms"]);
    assert(Date.now() - t0 < 2000);
  });
});

Deno.test("mcp probe: the era decision", () => {
  const base = { status: 200, sessionId: null };
  assertEquals(classifyDiscover({ ...base, result: info("2026-07-28") }), "ok");
  assertEquals(classifyDiscover({ ...base, status: 403 }), "auth");
  assertEquals(classifyDiscover({ ...base, status: 405 }), "fallback");
  assertEquals(classifyDiscover({ ...base, status: 404 }), "fallback");
  assertEquals(classifyDiscover({ ...base, error: { code: -32601, message: "nope" } }), "fallback");
  assertEquals(classifyDiscover({ ...base, result: { protocolVersion: "x" } }), "fallback");
});

/**
 * A server of the HTTP+SSE transport (2024-11-05): GET /sse opens a stream whose first event
 * names the endpoint to POST to; answers come back on the stream. `seen` gets each request,
 * and "closed" when a stream ends.
 */
function legacyServer(seen: string[], opts: { endpoint?: string } = {}) {
  const streams = new Map<string, ReadableStreamDefaultController<Uint8Array>>();
  const enc = new TextEncoder();
  return (req: Request, msg: Record<string, unknown> | null): Response => {
    const url = new URL(req.url);
    seen.push(`${req.method} ${url.pathname} ${msg?.method ?? ""}`.trim());
    if (req.method === "GET" && url.pathname === "/sse") {
      const id = crypto.randomUUID();
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          streams.set(id, c);
          const endpoint = opts.endpoint ?? `/messages?sessionId=${id}`;
          c.enqueue(enc.encode(`event: endpoint\ndata: ${endpoint}\n\n`));
        },
        cancel() {
          streams.delete(id);
          seen.push("closed");
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    }
    const stream = streams.get(url.searchParams.get("sessionId") ?? "");
    if (req.method !== "POST" || url.pathname !== "/messages" || !stream) {
      return new Response("not found", { status: 404 });
    }
    if (msg?.method === "initialize") {
      const answer = { jsonrpc: "2.0", id: msg.id, result: info("2024-11-05") };
      stream.enqueue(enc.encode(`event: message\ndata: ${JSON.stringify(answer)}\n\n`));
    }
    return new Response("Accepted", { status: 202 });
  };
}

Deno.test("mcp probe: a server of the HTTP+SSE transport is reached through its endpoint event, and its stream closed", async () => {
  const seen: string[] = [];
  const handler = legacyServer(seen);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const text = req.method === "POST" ? await req.text() : "";
    return await handler(req, text ? JSON.parse(text) : null);
  });
  try {
    const r = await probeMcp(`http://127.0.0.1:${server.addr.port}/sse`, 2000);
    assertEquals(r.status, "healthy");
    assertEquals(r.mcp, {
      name: "fixture",
      version: "2.0.0",
      protocolVersion: "2024-11-05",
      transport: "sse",
    });
    await waitFor("the stream closed", () => seen.includes("closed"));
    assertEquals(seen, [
      "POST /sse server/discover",
      "POST /sse initialize",
      "GET /sse",
      "POST /messages initialize",
      "POST /messages notifications/initialized",
      "closed",
    ]);
  } finally {
    await server.shutdown();
  }
});

Deno.test("mcp probe: an HTTP+SSE endpoint on another origin is refused, not posted to", async () => {
  const seen: string[] = [];
  const handler = legacyServer(seen, { endpoint: "http://example.invalid/messages" });
  await serving(handler, async (url) => {
    const r = await probeMcp(url.replace("/mcp", "/sse"), 2000);
    assertEquals(r.status, "failed");
    assertEquals(r.message, "the SSE endpoint is on another origin: http://example.invalid");
  });
  assertEquals(seen.filter((s) => s.startsWith("POST /messages")), []);
});

Deno.test("mcp probe: a 404 at a path whose GET never answers says so, with the first answer first", async () => {
  const never = Promise.withResolvers<Response>();
  await serving((req) => {
    if (req.method === "GET") return never.promise;
    return new Response("not found", { status: 404 });
  }, async (url) => {
    const r = await probeMcp(url, 300);
    never.resolve(new Response("late"));
    assertEquals(r.status, "failed");
    assertEquals(r.message, "HTTP 404 to initialize; over HTTP+SSE: timed out after 300ms");
  });
});
