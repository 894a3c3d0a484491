/**
 * Stdio MCP servers through the real daemon, driven by the official SDK's
 * client as MCP clients drive them: one child shared by many sessions, its
 * crash, the token, sessions that outlive the daemon, and servers from npm.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { ServerSummary, StatusDetail } from "../../lib/protocol/types.ts";
import { alive, freePort, Sandbox, sandboxProcesses, waitFor } from "./harness.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const deno = Deno.execPath();

/** The config of the example stdio server (examples/stdio_server.ts) on `port`. */
const example = (port: number, extra = "") =>
  `command "${deno}"\nargs "run" "-A" "--config" "${ROOT}deno.json" "${ROOT}examples/stdio_server.ts"\n` +
  `port ${port}\ntransport "stdio"\nhealth { start-period "60s"; }\n${extra}`;

/** An SDK client connected to `url`, with `token` as its bearer token when given. */
async function connect(
  url: string,
  token?: string,
): Promise<{ client: Client; session(): string | undefined; close(): Promise<void> }> {
  const client = new Client({ name: "xy-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(
    new URL(url),
    token ? { requestInit: { headers: { Authorization: `Bearer ${token}` } } } : {},
  );
  await client.connect(transport);
  return {
    client,
    session: () => transport.sessionId,
    close: async () => {
      await transport.terminateSession().catch(() => {});
      await client.close();
    },
  };
}

const status = (sb: Sandbox, name: string) => sb.call<StatusDetail>("status", { name });
const tokenOf = async (sb: Sandbox, name: string) =>
  (await sb.call<{ token: string | null }>("token", { name })).token!;
const textOf = (r: unknown) => ((r as { content: { text: string }[] }).content[0]?.text) ?? "";

async function runningPid(sb: Sandbox, name: string): Promise<number> {
  return await waitFor(`${name} running`, async () => {
    const s = await status(sb, name);
    return s.state === "running" ? s.pid : undefined;
  }, 60_000);
}

Deno.test("stdio: two clients share one child; colliding ids and progress tokens each reach only their own client", async () => {
  await using sb = await Sandbox.create();
  const port = freePort();
  await sb.writeConfig("notes", example(port));
  await sb.daemon();
  const pid = await runningPid(sb, "notes");
  const url = `http://127.0.0.1:${port}/mcp`;
  const token = await tokenOf(sb, "notes");
  const [a, b] = [await connect(url, token), await connect(url, token)];
  try {
    const progress: Record<string, number[]> = { a: [], b: [] };
    // Each client numbers its requests from the same start, and its progress token is its
    // request's id: the two calls collide in both, unless xy rewrites them.
    const call = (c: Client, who: "a" | "b", steps: number) =>
      c.callTool({ name: "wait", arguments: { steps } }, undefined, {
        onprogress: (p: { progress: number }) => progress[who]!.push(p.progress),
      });
    const [ra, rb] = await Promise.all([call(a.client, "a", 3), call(b.client, "b", 6)]);
    assertEquals(progress.a, [1, 2, 3]);
    assertEquals(progress.b, [1, 2, 3, 4, 5, 6]);
    assertMatch(textOf(ra), new RegExp(`^waited 3 steps in pid ${pid}$`));
    assertMatch(textOf(rb), new RegExp(`^waited 6 steps in pid ${pid}$`));
    // Both see the same notes: one child.
    await a.client.callTool({ name: "add_note", arguments: { title: "shared", text: "x" } });
    assertEquals(textOf(await b.client.callTool({ name: "list_notes", arguments: {} })), "shared");
    const s = await status(sb, "notes");
    assertEquals(s.pid, pid);
    assertEquals(s.stdio?.sessions.map((x) => x.client).sort(), ["xy-test 1.0.0", "xy-test 1.0.0"]);
    assertEquals(s.mcp?.name, "xy-stdio-notes");
    assertEquals(s.mcp?.transport, "stdio");
    assertEquals(s.url, url);
    // Its banner went to the log, as stdout's, while the protocol went on.
    const log = await Deno.readTextFile(`${sb.state}/logs/notes.log`);
    assertMatch(log, /\[out\] xy-stdio-notes ready on stdio\n/);
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("stdio: a child killed mid-request: the request errors at once, and the same session works after the restart", async () => {
  await using sb = await Sandbox.create();
  const port = freePort();
  await sb.writeConfig("notes", example(port, `restart { backoff-initial "100ms"; }`));
  await sb.daemon();
  const pid = await runningPid(sb, "notes");
  const c = await connect(`http://127.0.0.1:${port}/mcp`, await tokenOf(sb, "notes"));
  try {
    let steps = 0;
    const long = c.client.callTool({ name: "wait", arguments: { steps: 600 } }, undefined, {
      onprogress: () => steps++,
      timeout: 120_000,
    });
    await waitFor("the call under way", () => steps > 0);
    const t0 = Date.now();
    Deno.kill(pid, "SIGKILL");
    const error = await long.then(() => null, (e: Error) => e);
    assert(error, "the call did not fail");
    assertMatch(
      error.message,
      /the server's process killed by SIGKILL; the request was not answered/,
    );
    assert(Date.now() - t0 < 5_000, `the error came after ${Date.now() - t0} ms`);
    const next = await runningPid(sb, "notes");
    assert(next !== pid);
    // The same client, the same session: no initialize again, and it works.
    const r = await c.client.callTool({ name: "wait", arguments: { steps: 1 } });
    assertEquals(textOf(r), `waited 1 steps in pid ${next}`);
    assertEquals((await status(sb, "notes")).stdio?.sessions.length, 1);
  } finally {
    await c.close();
  }
});

Deno.test("stdio: 401 without the token, and a client configured by mcp-config gets in", async () => {
  await using sb = await Sandbox.create();
  const port = freePort();
  await sb.writeConfig("notes", example(port));
  await sb.daemon();
  await runningPid(sb, "notes");
  const url = `http://127.0.0.1:${port}/mcp`;
  const init = {
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name: "x", version: "1" },
    },
  };
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
    body: JSON.stringify(init),
  });
  assertEquals(res.status, 401);
  assertEquals(res.headers.get("www-authenticate"), 'Bearer realm="xy"');
  assertMatch(await res.text(), /xy mcp-config --write/);
  // A page that reached it by DNS rebinding: 403, whatever it carries.
  const rebound = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Origin: "http://evil.example.com" },
    body: JSON.stringify(init),
  });
  assertEquals(rebound.status, 403);
  await rebound.body?.cancel();
  const cfg = await sb.cli(["mcp-config", "--client", "cursor"]);
  assertEquals(cfg.code, 0, cfg.stderr);
  const entry = JSON.parse(cfg.stdout).mcpServers.notes as {
    url: string;
    headers: { Authorization: string };
  };
  assertEquals(entry.url, url);
  const c = await connect(entry.url, entry.headers.Authorization.replace(/^Bearer /, ""));
  try {
    assertEquals((await c.client.listTools()).tools.map((t: { name: string }) => t.name).sort(), [
      "add_note",
      "list_notes",
      "wait",
    ]);
  } finally {
    await c.close();
  }
  const rows = await sb.call<ServerSummary[]>("list");
  assertEquals([rows[0]!.url, rows[0]!.health_kind, rows[0]!.transport], [
    url,
    "stdio",
    "streamable-http",
  ]);
});

Deno.test("stdio: a session outlives the daemon; a DELETEd one is over for good", async () => {
  await using sb = await Sandbox.create();
  const port = freePort();
  await sb.writeConfig("notes", example(port, `stdio { auth "none"; }`));
  const first = await sb.daemon();
  await runningPid(sb, "notes");
  const url = `http://127.0.0.1:${port}/mcp`;
  const c = await connect(url);
  const id = c.session()!;
  try {
    await c.client.callTool({ name: "add_note", arguments: { title: "before", text: "x" } });
    assertEquals(await first.stop(), 0);
    await sb.daemon();
    await runningPid(sb, "notes");
    // The SDK client never initializes again: its session id must still be good.
    const r = await c.client.callTool({ name: "list_notes", arguments: {} });
    assertEquals(textOf(r), "(none)", "a new child, the same session");
  } finally {
    await c.close();
  }
  // Ended by DELETE (close() above): that id gets 404 from now on, as an id xy never issued does.
  for (const session of [id, "forged.id"]) {
    const ended = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Mcp-Session-Id": session },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }),
    });
    assertEquals(ended.status, 404, session);
    await ended.body?.cancel();
  }
});

Deno.test("stdio: stop closes the child's stdin first, and leaves no process", async () => {
  await using sb = await Sandbox.create();
  const port = freePort();
  await sb.writeConfig("notes", example(port, `stdio { auth "none"; }`));
  await sb.daemon();
  const pid = await runningPid(sb, "notes");
  const stopped = await sb.cli(["stop", "notes"]);
  assertEquals(stopped.code, 0, stopped.stderr);
  assertEquals(await alive(pid), false);
  const s = await status(sb, "notes");
  // The SDK's stdio server exits when its stdin closes: no SIGTERM was needed.
  assertEquals(s.last_exit_detail?.signal, null, JSON.stringify(s.last_exit_detail));
  assertEquals((await sandboxProcesses(sb.dir)).filter((p) => p.server === "notes"), []);
  // The endpoint is gone with it.
  const refused = await fetch(`http://127.0.0.1:${port}/mcp`, { method: "GET" }).then(
    (r) => r.body?.cancel().then(() => r.status),
    () => "refused",
  );
  assertEquals(refused, "refused");
});

Deno.test("stdio: the reference servers from npm run shared behind xy (server-everything, server-memory)", async () => {
  await using sb = await Sandbox.create();
  const [pe, pm] = [freePort(), freePort()];
  const npm = (pkg: string, port: number, args = "") =>
    `command "${deno}"\nargs "run" "-A" "npm:${pkg}" ${args}\nport ${port}\n` +
    `transport "stdio"\nstdio { auth "none"; }\nhealth { start-period "120s"; }`;
  await sb.writeConfig(
    "everything",
    npm("@modelcontextprotocol/server-everything@2026.8.31", pe, `"stdio"`),
  );
  await sb.writeConfig("memory", npm("@modelcontextprotocol/server-memory@2026.8.31", pm));
  await sb.daemon();
  await runningPid(sb, "everything");
  await runningPid(sb, "memory");
  const e = await connect(`http://127.0.0.1:${pe}/mcp`);
  const m = await connect(`http://127.0.0.1:${pm}/mcp`);
  try {
    const progress: number[] = [];
    const r = await e.client.callTool(
      { name: "trigger-long-running-operation", arguments: { duration: 1, steps: 3 } },
      undefined,
      { onprogress: (p: { progress: number }) => progress.push(p.progress) },
    );
    assertEquals(progress, [1, 2, 3]);
    assertMatch(textOf(r), /Long running operation completed/);
    await m.client.callTool({
      name: "create_entities",
      arguments: { entities: [{ name: "xy", entityType: "tool", observations: ["supervises"] }] },
    });
    assertMatch(
      textOf(await m.client.callTool({ name: "read_graph", arguments: {} })),
      /supervises/,
    );
    assertEquals((await status(sb, "memory")).mcp?.name, "memory-server");
  } finally {
    await e.close();
    await m.close();
  }
});
