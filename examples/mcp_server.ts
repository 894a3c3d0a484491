/**
 * A real MCP server for the demo and the tests, built on the official
 * TypeScript SDK over Streamable HTTP (sessions, the 2025-11-25 era): a small
 * notes store with two tools. It prints a line when it listens and when a
 * session opens or closes, so its log shows that xy's probes leave no session
 * behind.
 *
 * Usage: deno run --allow-net --allow-env examples/mcp_server.ts --port 8421 [--name notes]
 *        [--ready-after 1500ms]
 */
import { parseArgs } from "node:util";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { z } from "zod";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string" },
    name: { type: "string" },
    "ready-after": { type: "string" },
  },
});
const port = Number(values.port ?? 8421);
const name = values.name ?? "xy-demo";
const readyAfterMs = Number(/^(\d+)ms$/.exec(values["ready-after"] ?? "0ms")?.[1] ?? 0);

const notes = new Map<string, string>();

/** One MCP server object per session, as the SDK wants. */
function newServer(): McpServer {
  const server = new McpServer({ name, version: "1.0.0" });
  server.registerTool("add_note", {
    description: "Stores a note under a title.",
    inputSchema: { title: z.string(), text: z.string() },
  }, ({ title, text }: { title: string; text: string }) => {
    notes.set(title, text);
    return { content: [{ type: "text", text: `saved "${title}"` }] };
  });
  server.registerTool("list_notes", {
    description: "Lists the titles of the notes.",
    inputSchema: {},
  }, () => ({ content: [{ type: "text", text: [...notes.keys()].join("\n") || "(none)" }] }));
  return server;
}

const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>();

async function handle(req: Request): Promise<Response> {
  const url = new URL(req.url);
  if (url.pathname !== "/mcp") return new Response("not found", { status: 404 });
  const id = req.headers.get("mcp-session-id");
  const known = id ? sessions.get(id) : undefined;
  if (known) return await known.handleRequest(req);
  if (id) return new Response("unknown session", { status: 404 });
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: () => crypto.randomUUID(),
    onsessioninitialized: (sid: string) => {
      sessions.set(sid, transport);
      log(`session ${sid} opened (${sessions.size} open)`);
    },
    onsessionclosed: (sid: string) => {
      sessions.delete(sid);
      log(`session ${sid} closed (${sessions.size} open)`);
    },
  });
  await newServer().connect(transport);
  return await transport.handleRequest(req);
}

function log(line: string) {
  Deno.stdout.writeSync(new TextEncoder().encode(`${line}\n`));
}

// A server that takes a while to come up, as real ones do.
if (readyAfterMs > 0) await new Promise((r) => setTimeout(r, readyAfterMs));
Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: () => log(`${name} listening on http://127.0.0.1:${port}/mcp`),
}, handle);
