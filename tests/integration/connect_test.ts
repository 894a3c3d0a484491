/**
 * `xy connect` through the real CLI and daemon, as Claude Desktop runs it:
 * from a bare environment (HOME and PATH), driven by the official SDK's stdio
 * client, sharing the one server xy serves, and initializing again when its
 * session is refused.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { StatusDetail } from "../../lib/protocol/types.ts";
import { denoDir, freePort, Sandbox, waitFor } from "./harness.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const MAIN = `${ROOT}main.ts`;
const deno = Deno.execPath();
const textOf = (r: unknown) => ((r as { content: { text: string }[] }).content[0]?.text) ?? "";

/** What a client that starts commands gives them: no XY_* variable, no XDG_*. */
const bare = (sb: Sandbox) => ({
  HOME: sb.home,
  PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
  DENO_DIR: denoDir(),
});

async function running(sb: Sandbox, name: string): Promise<StatusDetail> {
  return await waitFor(`${name} running`, async () => {
    const s = await sb.call<StatusDetail>("status", { name });
    return s.state === "running" ? s : undefined;
  }, 60_000);
}

Deno.test({
  name:
    "connect: the SDK's stdio client through xy connect shares the server; a refused session is initialized again",
  // The SDK's StdioClientTransport.close() races the child's exit against a 2 s timer it never
  // clears, which the sanitizers would blame this test for. The sandbox still stops every
  // process the test started, and the next test checks the same shim with the sanitizers on.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using sb = await Sandbox.create({ layout: "home" });
    const port = freePort();
    await sb.writeConfig(
      "notes",
      `command "${deno}"\nargs "run" "-A" "--config" "${ROOT}deno.json" "${ROOT}examples/stdio_server.ts"\n` +
        `port ${port}\ntransport "stdio"\nhealth { start-period "60s"; }\n`,
    );
    await sb.daemon();
    const pid = (await running(sb, "notes")).pid;
    const transport = new StdioClientTransport({
      command: deno,
      args: ["run", "-A", MAIN, "connect", "notes"],
      env: bare(sb),
      stderr: "pipe",
    });
    const client = new Client({ name: "desktop-like", version: "1" });
    await client.connect(transport);
    const { token } = await sb.call<{ token: string }>("token", { name: "notes" });
    const http = new Client({ name: "http", version: "1" });
    const httpTransport = new StreamableHTTPClientTransport(
      new URL(`http://127.0.0.1:${port}/mcp`),
      {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
      },
    );
    await http.connect(httpTransport);
    let closedHttp = false;
    try {
      assertEquals((await client.listTools()).tools.length, 3);
      const progress: number[] = [];
      const r = await client.callTool({ name: "wait", arguments: { steps: 3 } }, undefined, {
        onprogress: (p: { progress: number }) => progress.push(p.progress),
      });
      // The SDK's client handles a notification a microtask after a response read in the same
      // chunk, and by then has dropped the request's progress handler: the last progress may be
      // lost there (the shim writes it first: the next test reads its stdout itself).
      assertEquals(progress, [1, 2, 3].slice(0, progress.length));
      assert(progress.length >= 2, `progress ${progress}`);
      assertEquals(textOf(r), `waited 3 steps in pid ${pid}`, "the one child xy runs");
      // What an HTTP client keeps, the stdio client sees: one server for both.
      await http.callTool({ name: "add_note", arguments: { title: "shared", text: "x" } });
      assertEquals(textOf(await client.callTool({ name: "list_notes", arguments: {} })), "shared");
      // The daemon comes back with another session key: the shim's session is refused (404),
      // and it initializes again on the client's behalf.
      await httpTransport.terminateSession().catch(() => {});
      await http.close();
      closedHttp = true;
      await sb.cli(["daemon", "stop"]);
      await Deno.remove(`${sb.state}/session.key`);
      await sb.daemon();
      await running(sb, "notes");
      assertEquals(textOf(await client.callTool({ name: "list_notes", arguments: {} })), "(none)");
      assertEquals(
        (await sb.call<StatusDetail>("status", { name: "notes" })).stdio?.sessions.length,
        1,
      );
    } finally {
      await client.close();
      // Its GET stream would try again once the daemon is gone, in the next test's time.
      if (!closedHttp) await http.close();
    }
  },
});

Deno.test("connect: nothing but protocol on stdout; ends when stdin closes; an unknown server is an error", async () => {
  await using sb = await Sandbox.create({ layout: "home" });
  const port = freePort();
  await sb.writeConfig(
    "notes",
    `command "${deno}"\nargs "run" "-A" "--config" "${ROOT}deno.json" "${ROOT}examples/stdio_server.ts"\n` +
      `port ${port}\ntransport "stdio"\nhealth { start-period "60s"; }\nautostart #false\n`,
  );
  await sb.daemon();
  // Not running: xy connect starts it.
  const child = new Deno.Command(deno, {
    args: ["run", "-A", MAIN, "connect", "notes"],
    env: bare(sb),
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  sb.track(child);
  const w = child.stdin.getWriter();
  const send = (m: unknown) => w.write(new TextEncoder().encode(JSON.stringify(m) + "\n"));
  await send({
    jsonrpc: "2.0",
    id: 1,
    method: "initialize",
    params: {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "raw", version: "1" },
    },
  });
  await send({ jsonrpc: "2.0", method: "notifications/initialized" });
  await send({ jsonrpc: "2.0", id: 2, method: "tools/list" });
  await send({
    jsonrpc: "2.0",
    id: 3,
    method: "tools/call",
    params: { name: "wait", arguments: { steps: 3 }, _meta: { progressToken: "p" } },
  });
  const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  await waitFor("the answers", async () => {
    const { value } = await out.read();
    text += value ?? "";
    return text.includes('"id":3');
  }, 60_000);
  await w.close();
  assertEquals((await child.status).code, 0);
  const stderr = await new Response(child.stderr).text();
  assertEquals(stderr, "", "nothing to say when all goes well");
  for (;;) {
    const { value, done } = await out.read();
    if (done) break;
    text += value;
  }
  const lines = text.trim().split("\n").map((l) => JSON.parse(l));
  for (const m of lines) assertEquals(m.jsonrpc, "2.0");
  // Each answer, and the call's progress before its answer, in order.
  assertEquals(
    lines.map((m) => m.id ?? `${m.method} ${m.params.progressToken} ${m.params.progress}`),
    [
      1,
      2,
      "notifications/progress p 1",
      "notifications/progress p 2",
      "notifications/progress p 3",
      3,
    ],
  );
  assertEquals((await sb.call<StatusDetail>("status", { name: "notes" })).state, "running");
  const unknown = await new Deno.Command(deno, {
    args: ["run", "-A", MAIN, "connect", "nope"],
    env: bare(sb),
    clearEnv: true,
    stdin: "null",
  }).output();
  assertEquals(unknown.code, 1);
  assertMatch(new TextDecoder().decode(unknown.stderr), /^xy connect: .*nope/);
  assertEquals(new TextDecoder().decode(unknown.stdout), "");
});
