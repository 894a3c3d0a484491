/**
 * A stdio MCP server for the demo and the tests, on the official TypeScript
 * SDK: what most servers people paste into Claude Desktop or Cursor are. It
 * keeps notes, and has a slow tool that reports its progress. Like many real
 * servers it prints a banner on stdout before it speaks the protocol: xy puts
 * that line in the server's log and goes on.
 *
 * Usage: deno run -A examples/stdio_server.ts [--name notes]
 */
import { parseArgs } from "node:util";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const { values } = parseArgs({ args: Deno.args, options: { name: { type: "string" } } });
const name = values.name ?? "xy-stdio-notes";

/** What a tool's handler is given besides its arguments (the part used here). */
interface Extra {
  readonly _meta?: { readonly progressToken?: string | number };
  readonly signal: AbortSignal;
  sendNotification(n: { method: string; params: Record<string, unknown> }): Promise<void>;
}

const notes = new Map<string, string>();
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
server.registerTool("wait", {
  description: "Waits `steps` times 100 ms, reporting progress after each, and says its pid.",
  inputSchema: { steps: z.number().int().min(0).max(1000) },
}, async ({ steps }: { steps: number }, extra: Extra) => {
  const token = extra._meta?.progressToken;
  for (let i = 1; i <= steps; i++) {
    await new Promise((r) => setTimeout(r, 100));
    if (extra.signal.aborted) break;
    if (token !== undefined) {
      await extra.sendNotification({
        method: "notifications/progress",
        params: { progressToken: token, progress: i, total: steps },
      });
    }
  }
  return { content: [{ type: "text", text: `waited ${steps} steps in pid ${Deno.pid}` }] };
});

// A banner on stdout, as many servers print: not protocol, so xy logs it.
Deno.stdout.writeSync(new TextEncoder().encode(`${name} ready on stdio\n`));
await server.connect(new StdioServerTransport());
