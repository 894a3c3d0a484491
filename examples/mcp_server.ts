/**
 * A small real MCP server over HTTP, for the demo: answers `initialize` (the
 * session era) and `server/discover` at POST /mcp, and prints a line per
 * request. Usage: deno run --allow-net examples/mcp_server.ts --port 8421 [--name demo]
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: { port: { type: "string" }, name: { type: "string" } },
});
const port = Number(values.port ?? 8421);
const name = values.name ?? "xy-demo";

function reply(id: unknown, result: unknown): Response {
  return Response.json({ jsonrpc: "2.0", id, result });
}

Deno.serve(
  { hostname: "127.0.0.1", port, onListen: () => log(`${name} listening on :${port}`) },
  async (req) => {
    const url = new URL(req.url);
    if (url.pathname !== "/mcp") return new Response("not found", { status: 404 });
    if (req.method === "DELETE") return new Response(null, { status: 204 });
    if (req.method !== "POST") return new Response(null, { status: 405 });
    const msg = await req.json().catch(() => null);
    log(`${req.method} /mcp ${msg?.method ?? "?"}`);
    const serverInfo = { name, version: "1.0.0" };
    switch (msg?.method) {
      case "initialize":
        return reply(msg.id, { protocolVersion: "2025-11-25", capabilities: {}, serverInfo });
      case "server/discover":
        return reply(msg.id, { protocolVersion: "2026-07-28", capabilities: {}, serverInfo });
      default:
        if (msg?.id === undefined) return new Response(null, { status: 202 });
        return Response.json({
          jsonrpc: "2.0",
          id: msg.id,
          error: { code: -32601, message: "method not found" },
        });
    }
  },
);

function log(line: string) {
  Deno.stdout.writeSync(new TextEncoder().encode(`${new Date().toISOString()} ${line}\n`));
}
