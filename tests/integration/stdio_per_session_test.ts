/**
 * Per-session stdio servers through the real daemon (SPEC §11, `sharing
 * "per-session"`): a child for each session, started at its `initialize` and
 * ended with it, idle, or by `max-sessions`; one that exits on its own is
 * started again for its session, and counted.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { StatusDetail } from "../../lib/protocol/types.ts";
import { alive, freePort, Sandbox, sandboxProcesses, waitFor } from "./harness.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const deno = Deno.execPath();

/** The example stdio server (examples/stdio_server.ts) on `port`, per session, no token. */
const example = (port: number, stdio = "", extra = "") =>
  `command "${deno}"\nargs "run" "-A" "--config" "${ROOT}deno.json" "${ROOT}examples/stdio_server.ts"\n` +
  `port ${port}\ntransport "stdio"\nhealth { start-period "60s"; }\n` +
  `stdio { sharing "per-session"; auth "none"; ${stdio} }\n${extra}`;

async function connect(url: string) {
  const client = new Client({ name: "xy-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  return {
    client,
    session: () => transport.sessionId!,
    close: async () => {
      await transport.terminateSession().catch(() => {});
      await client.close();
    },
  };
}

const status = (sb: Sandbox, name: string) => sb.call<StatusDetail>("status", { name });
const textOf = (r: unknown) => ((r as { content: { text: string }[] }).content[0]?.text) ?? "";
/** The pid a `wait` call of the example reports: the process that answered it. */
const pidOf = async (c: Client) =>
  Number(textOf(await c.callTool({ name: "wait", arguments: { steps: 0 } })).split(" pid ")[1]);

async function running(sb: Sandbox, name: string): Promise<StatusDetail> {
  return await waitFor(`${name} running`, async () => {
    const s = await status(sb, name);
    return s.state === "running" ? s : undefined;
  }, 60_000);
}

/** A client without a GET stream, as plain `fetch`: initialize, then requests, each answered. */
class RawClient {
  #session: string | null = null;
  #id = 1;
  constructor(readonly url: string) {}

  async request(method: string, params: Record<string, unknown> = {}): Promise<Response> {
    const res = await fetch(this.url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-11-25",
        ...(this.#session ? { "Mcp-Session-Id": this.#session } : {}),
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: this.#id++, method, params }),
    });
    this.#session ??= res.headers.get("mcp-session-id");
    return res;
  }

  /** The result of `method`, which must be answered with 200. */
  async call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const res = await this.request(method, params);
    const text = await res.text();
    assertEquals(res.status, 200, text);
    const body = text.startsWith("{")
      ? JSON.parse(text)
      : JSON.parse(text.split("\n").filter((l) => l.startsWith("data: ")).at(-1)!.slice(6));
    if (body.error) throw new Error(body.error.message);
    return body.result;
  }

  async initialize(): Promise<void> {
    await this.call("initialize", {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name: "raw", version: "1" },
    });
  }
}

Deno.test("stdio per-session: a child per session, started at initialize and ended by DELETE; more than max-sessions get 503", async () => {
  await using sb = await Sandbox.create();
  const port = freePort();
  await sb.writeConfig("notes", example(port, `max-sessions 2;`));
  await sb.daemon();
  const first = await running(sb, "notes");
  // The child that checked the command is gone: no session, no process, no pid to show.
  assertEquals(first.pid, undefined);
  await waitFor("the checking child gone", async () => {
    return (await sandboxProcesses(sb.dir)).filter((p) => p.server === "notes").length === 0;
  });
  const url = `http://127.0.0.1:${port}/mcp`;
  const a = await connect(url);
  const b = await connect(url);
  try {
    const [pa, pb] = [await pidOf(a.client), await pidOf(b.client)];
    assert(pa !== pb, "two sessions, one child");
    // Each child is the session's own: what one keeps, the other does not see.
    await a.client.callTool({ name: "add_note", arguments: { title: "mine", text: "x" } });
    assertEquals(textOf(await b.client.callTool({ name: "list_notes", arguments: {} })), "(none)");
    assertEquals(textOf(await a.client.callTool({ name: "list_notes", arguments: {} })), "mine");
    const s = await status(sb, "notes");
    assertEquals(s.state, "running");
    assertEquals(s.stdio?.sharing, "per-session");
    assertEquals(s.stdio?.sessions.map((x) => x.pid).sort(), [pa, pb].sort());
    // They are the server's processes: marked as its run, so a reap would find them.
    const marked = (await sandboxProcesses(sb.dir)).filter((p) => p.server === "notes");
    assertEquals(
      marked.map((p) => p.pid).filter((p) => p === pa || p === pb).sort(),
      [pa, pb].sort(),
    );
    // A third session would need a third child: 503, and no session.
    const third = await new RawClient(url).request("initialize", {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name: "third", version: "1" },
    });
    assertEquals(third.status, 503);
    assertMatch(await third.text(), /max-sessions 2 reached/);
    assertEquals(third.headers.get("retry-after"), "2");
    // DELETE ends a's session, and its child with it.
    await a.close();
    await waitFor("a's child gone", async () => !(await alive(pa)));
    assertEquals((await status(sb, "notes")).stdio?.sessions.map((x) => x.pid), [pb]);
    // Its place is free again.
    const c = await connect(url);
    assert((await pidOf(c.client)) !== pb);
    await c.close();
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("stdio per-session: an idle session's child is stopped, and its next request starts one again with its initialize replayed", async () => {
  await using sb = await Sandbox.create();
  const port = freePort();
  await sb.writeConfig("notes", example(port, `session-idle "1s";`));
  await sb.daemon();
  await running(sb, "notes");
  const c = new RawClient(`http://127.0.0.1:${port}/mcp`);
  await c.initialize();
  const wait = async () =>
    textOf(await c.call("tools/call", { name: "wait", arguments: { steps: 0 } }));
  const pid = Number((await wait()).split(" pid ")[1]);
  assert(await alive(pid));
  await waitFor("the idle child stopped", async () => !(await alive(pid)), 15_000);
  const idle = await status(sb, "notes");
  assertEquals(idle.stdio?.sessions.map((x) => [x.client, x.pid]), [["raw 1", null]]);
  assertEquals(idle.state, "running");
  // The session goes on: its next request gets a child of its own again, initialized as before.
  const again = Number((await wait()).split(" pid ")[1]);
  assert(again !== pid && (await alive(again)));
  assertEquals((await status(sb, "notes")).restart_count, 0, "an idle stop is no restart");
  // A stopped server stops every child; the session stays for its next start.
  assertEquals((await sb.cli(["stop", "notes"])).code, 0);
  assertEquals(await alive(again), false);
  assertEquals((await sandboxProcesses(sb.dir)).filter((p) => p.server === "notes"), []);
  assertEquals((await sb.cli(["start", "notes", "--wait"])).code, 0);
  assert(Number((await wait()).split(" pid ")[1]) !== again);
});

Deno.test("stdio per-session: a child that exits on its own is started again for its session and counted; too often, and the server fails", async () => {
  await using sb = await Sandbox.create();
  const port = freePort();
  await sb.writeConfig(
    "notes",
    example(port, "", `restart { max-retries-per-minute 2; }`),
  );
  await sb.daemon();
  await running(sb, "notes");
  const url = `http://127.0.0.1:${port}/mcp`;
  const c = await connect(url);
  try {
    let steps = 0;
    const long = c.client.callTool({ name: "wait", arguments: { steps: 600 } }, undefined, {
      onprogress: () => steps++,
      timeout: 120_000,
    });
    await waitFor("the call under way", () => steps > 0);
    const pid = (await status(sb, "notes")).stdio!.sessions[0]!.pid!;
    const t0 = Date.now();
    Deno.kill(pid, "SIGKILL");
    const error = await long.then(() => null, (e: Error) => e);
    assertMatch(String(error?.message), /the session's process killed by SIGKILL/);
    assert(Date.now() - t0 < 5_000, `the error came after ${Date.now() - t0} ms`);
    // Started again at once for the same session, its initialize replayed: the SDK client
    // goes on without a new initialize.
    const next = await waitFor("a new child", async () => {
      const p = (await status(sb, "notes")).stdio?.sessions[0]?.pid;
      return p && p !== pid ? p : undefined;
    });
    assertEquals(await pidOf(c.client), next);
    const s = await status(sb, "notes");
    assertEquals([s.state, s.restart_count], ["running", 1]);
    assertMatch(
      s.last_error ?? "",
      /the process of session [\w-]{8} killed by SIGKILL; started again/,
    );
    // Twice more within the minute: past max-retries-per-minute 2, the server fails.
    Deno.kill(next, "SIGKILL");
    const third = await waitFor("a third child", async () => {
      const p = (await status(sb, "notes")).stdio?.sessions[0]?.pid;
      return p && p !== next ? p : undefined;
    });
    Deno.kill(third, "SIGKILL");
    const failed = await waitFor("failed", async () => {
      const s = await status(sb, "notes");
      return s.state === "failed" ? s : undefined;
    });
    assertMatch(failed.last_error ?? "", /2 restarts within 60s \(max-retries-per-minute 2\)/);
    const refused = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Mcp-Session-Id": c.session() },
      body: JSON.stringify({ jsonrpc: "2.0", id: 99, method: "tools/list" }),
    });
    assertEquals(refused.status, 503);
    await refused.body?.cancel();
    assertEquals((await sandboxProcesses(sb.dir)).filter((p) => p.server === "notes"), []);
  } finally {
    await c.close();
  }
});

Deno.test("stdio per-session: a session outlives the daemon; its next request gets a child, initialized by xy", async () => {
  await using sb = await Sandbox.create();
  const port = freePort();
  await sb.writeConfig("notes", example(port));
  const first = await sb.daemon();
  await running(sb, "notes");
  const c = await connect(`http://127.0.0.1:${port}/mcp`);
  try {
    const before = await pidOf(c.client);
    assertEquals(await first.stop(), 0);
    assertEquals(await alive(before), false, "the daemon's stop stops every session's child");
    await sb.daemon();
    await running(sb, "notes");
    // The SDK client never initializes again: xy re-creates its session and starts a child for it.
    const after = await pidOf(c.client);
    assert(after !== before && (await alive(after)));
    const s = await status(sb, "notes");
    assertEquals(s.stdio?.sessions.map((x) => [x.client, x.pid]), [[null, after]]);
  } finally {
    await c.close();
  }
});
