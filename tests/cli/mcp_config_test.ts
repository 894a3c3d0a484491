import { assertEquals, assertRejects } from "../assert.ts";
import { MCP_CLIENTS, mcpConfig, mcpEndpoints } from "../../lib/cli/mcp_config.ts";
import type { ServerSummary } from "../../lib/protocol/types.ts";

const FIXTURES = new URL("../fixtures/mcp_config/", import.meta.url);

const row = (name: string, port: number, url?: string, state = "running"): ServerSummary => ({
  name,
  state: state as ServerSummary["state"],
  port,
  restart_count: 0,
  ...(url ? { url } : {}),
});

const ROWS: ServerSummary[] = [
  row("github", 7301, "http://127.0.0.1:7301/mcp"),
  row("plain-http", 7302),
  row("search_v2", 7303, "http://127.0.0.1:7303/api/mcp", "stopped"),
  // Its health check found the HTTP+SSE transport of 2024-11-05.
  { ...row("legacy", 7304, "http://127.0.0.1:7304/sse"), transport: "sse" },
];

for (const client of MCP_CLIENTS) {
  Deno.test(`mcp-config: the ${client} format is the golden one`, async () => {
    assertEquals(
      mcpConfig(mcpEndpoints(ROWS, []), client),
      await Deno.readTextFile(new URL(`${client}.json`, FIXTURES)),
    );
  });
}

Deno.test("mcp-config: without names every server with an MCP endpoint; with names those, in order", () => {
  assertEquals(mcpEndpoints(ROWS, []).map((e) => e.name), ["github", "search_v2", "legacy"]);
  assertEquals(mcpEndpoints(ROWS, ["search_v2", "github"]).map((e) => e.name), [
    "search_v2",
    "github",
  ]);
});

Deno.test("mcp-config: a name that is not there, or has no MCP endpoint, or none at all, is an error", async () => {
  await assertRejects(() => mcpEndpoints(ROWS, ["nope"]), /no server named "nope"$/);
  await assertRejects(
    () => mcpEndpoints(ROWS, ["github2"]),
    /no server named "github2" \(did you mean "github"\?\)/,
  );
  await assertRejects(
    () => mcpEndpoints(ROWS, ["plain-http"]),
    /"plain-http" has no MCP endpoint: give it a health \{ mcp "\/mcp" \} block/,
  );
  await assertRejects(() => mcpEndpoints([row("x", 1)], []), /no server has an MCP endpoint/);
});

Deno.test("mcp-config: a stdio server's token goes in an Authorization header, in every client's format", () => {
  const e = { name: "memory", url: "http://127.0.0.1:8431/mcp", state: "running" };
  const endpoints = [{ ...e, transport: "streamable-http" as const, token: "t0k" }];
  const auth = { Authorization: "Bearer t0k" };
  assertEquals(JSON.parse(mcpConfig(endpoints, "cursor")).mcpServers.memory, {
    url: e.url,
    headers: auth,
  });
  assertEquals(JSON.parse(mcpConfig(endpoints, "vscode")).servers.memory, {
    type: "http",
    url: e.url,
    headers: auth,
  });
  assertEquals(JSON.parse(mcpConfig(endpoints, "claude-code")).mcpServers.memory, {
    type: "http",
    url: e.url,
    headers: auth,
  });
  assertEquals(JSON.parse(mcpConfig(endpoints, "json")).servers[0].headers, auth);
});
