/** A new server's file, as `xy add` and `xy import` write it: readable, and read back as written. */
import { assertEquals } from "../assert.ts";
import { kdlString, serverKdl } from "../../lib/config/write.ts";
import { decodeServer } from "../../lib/config/decode.ts";

const decode = (text: string) => {
  const r = decodeServer(text, { file: "/x/a.kdl", name: "a" });
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("; "));
  return r.config;
};

Deno.test("config write: a stdio server, in the README's order, with its origin on top", () => {
  const text = serverKdl({
    command: "npx",
    args: ["-y", "@modelcontextprotocol/server-memory"],
    port: 8431,
    env: { MEMORY_FILE_PATH: "/home/me/memory.json" },
    workingDir: "/home/me",
    stdio: { sharing: "per-session" },
    comment: ['Imported by xy from ~/.cursor/mcp.json ("memory").'],
  });
  assertEquals(
    text,
    `// Imported by xy from ~/.cursor/mcp.json ("memory").
command "npx"
args "-y" "@modelcontextprotocol/server-memory"
port 8431
env {
    MEMORY_FILE_PATH "/home/me/memory.json"
}
working-dir "/home/me"
transport "stdio"
stdio {
    sharing "per-session"
}
`,
  );
  const c = decode(text);
  assertEquals([c.command, c.args, c.port, c.env, c.workingDir, c.transport, c.stdio?.sharing], [
    "npx",
    ["-y", "@modelcontextprotocol/server-memory"],
    8431,
    { MEMORY_FILE_PATH: "/home/me/memory.json" },
    "/home/me",
    "stdio",
    "per-session",
  ]);
});

Deno.test("config write: a server that listens itself gets its MCP probe", () => {
  const c = decode(serverKdl({ command: "web", args: [], port: 9000, mcpPath: "/mcp" }));
  assertEquals([c.transport, c.health?.kind, c.health?.kind === "mcp" && c.health.path], [
    "http",
    "mcp",
    "/mcp",
  ]);
});

Deno.test("config write: any text survives the file: quotes, backslashes, newlines, controls, keywords", () => {
  const odd = [
    'say "hi"',
    "C:\\path\\x",
    "two\nlines\ttab",
    "\u0001\u007f\ufeff",
    "#true",
    "é 😀",
    "",
  ];
  const env = { "MY VAR": "a", true: "b", X_1: '"' };
  const c = decode(serverKdl({ command: "a b", args: odd, port: 1, env }));
  assertEquals(c.command, "a b");
  assertEquals(c.args, odd);
  assertEquals(c.env, env);
  assertEquals(kdlString('a"b'), '"a\\"b"');
});
