/**
 * The bridge figure's floor: an HTTP server that answers each POST with a
 * JSON-RPC answer at once, in a process of its own as xy's daemon is. A
 * `tools/call` through any bridge costs at least this round trip plus the
 * server's own over its stdio.
 *
 * Usage: deno run --allow-net bench/echo_server.ts PORT
 */
const port = Number(Deno.args[0]);
Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (req) => {
  const m = await req.json();
  const body = m.method === "initialize"
    ? {
      protocolVersion: "2025-06-18",
      capabilities: {},
      serverInfo: { name: "echo", version: "1" },
    }
    : { content: [{ type: "text", text: "waited 0 steps" }] };
  if (m.id === undefined) return new Response(null, { status: 202 });
  return new Response(JSON.stringify({ jsonrpc: "2.0", id: m.id, result: body }), {
    headers: { "Content-Type": "application/json", "Mcp-Session-Id": "echo" },
  });
});
