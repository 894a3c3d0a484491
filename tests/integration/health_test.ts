/** Health checks, readiness and dependencies, against real servers. */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { FIXTURES, freePort, Sandbox, waitFor } from "./harness.ts";
import type { ServerSummary, StatusDetail } from "../../lib/protocol/types.ts";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const deno = Deno.execPath();

const status = (sb: Sandbox, name: string) => sb.call<StatusDetail>("status", { name });

/** The config of the fixture HTTP server on `port`, with `extra` lines. */
const httpServer = (port: number, flags: string, extra: string) =>
  `command "${deno}"\nargs "run" "--allow-net" "${FIXTURES}/http_server.ts" "${port}" ${flags}\n` +
  `port ${port}\n${extra}`;

Deno.test("health: the SDK example becomes healthy with its serverInfo, and probes leave no session open", async () => {
  await using sb = await Sandbox.create();
  const port = freePort();
  await sb.writeConfig(
    "notes",
    `command "${deno}"\nargs "run" "-A" "--config" "${ROOT}deno.json" "${ROOT}examples/mcp_server.ts" ` +
      `"--port" "${port}" "--name" "notes"\nport ${port}\n` +
      `health {\n  mcp "/mcp"\n  interval "200ms"\n  start-period "60s"\n}`,
  );
  await sb.daemon();
  const s = await waitFor("notes healthy", async () => {
    const st = await status(sb, "notes");
    return st.state === "running" && st.health === "healthy" ? st : null;
  }, 60_000);
  assertEquals(s.mcp, {
    name: "notes",
    version: "1.0.0",
    protocol_version: "2025-11-25",
    transport: "streamable-http",
  });
  assertEquals(s.url, `http://127.0.0.1:${port}/mcp`);
  assertEquals(s.health_check?.kind, "mcp");
  const json = JSON.parse((await sb.cli(["status", "notes", "--json"])).stdout);
  assertEquals(json.mcp.name, "notes");
  const list = await sb.cli(["list"]);
  assertMatch(list.stdout, /notes +running .* mcp ok \d+ms\n/);
  // What mcp-config prints is what an MCP client needs: the SDK's client reaches the server by it.
  const config = await sb.cli(["mcp-config", "--client", "claude-code"]);
  assertEquals(config.code, 0, config.stderr);
  const entry = JSON.parse(config.stdout).mcpServers.notes;
  assertEquals(entry, { type: "http", url: `http://127.0.0.1:${port}/mcp` });
  const client = new Client({ name: "xy-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(entry.url));
  await client.connect(transport);
  try {
    const tools = await client.listTools();
    assertEquals(tools.tools.map((t: { name: string }) => t.name).sort(), [
      "add_note",
      "list_notes",
    ]);
  } finally {
    await transport.terminateSession(); // Its session too must be closed, for the check below.
    await client.close();
  }
  // Several probes later, every session a probe opened was closed.
  const log = `${sb.state}/logs/notes.log`;
  await waitFor("a few probes, all sessions closed", async () => {
    const text = await Deno.readTextFile(log);
    const opened = (text.match(/ opened /g) ?? []).length;
    const closed = (text.match(/ closed /g) ?? []).length;
    return opened >= 4 && opened === closed;
  });
});

Deno.test("health: a server of the HTTP+SSE transport (official SDK) is checked over its stream, and mcp-config says sse", async () => {
  await using sb = await Sandbox.create();
  const port = freePort();
  await sb.writeConfig(
    "legacy",
    `command "${deno}"\nargs "run" "-A" "--config" "${ROOT}deno.json" "${FIXTURES}/sse_mcp_server.ts" ` +
      `"${port}"\nport ${port}\n` +
      `health {\n  mcp "/sse"\n  interval "200ms"\n  start-period "60s"\n}`,
  );
  await sb.daemon();
  const s = await waitFor("legacy healthy", async () => {
    const st = await status(sb, "legacy");
    return st.state === "running" && st.health === "healthy" ? st : null;
  }, 60_000);
  assertEquals(s.mcp, {
    name: "legacy-notes",
    version: "0.9.0",
    protocol_version: "2025-11-25",
    transport: "sse",
  });
  assertMatch((await sb.cli(["status", "legacy"])).stdout, /protocol 2025-11-25, over HTTP\+SSE\n/);
  const config = await sb.cli(["mcp-config", "--client", "claude-code"]);
  assertEquals(JSON.parse(config.stdout).mcpServers.legacy, {
    type: "sse",
    url: `http://127.0.0.1:${port}/sse`,
  });
  // Every stream a probe opened, it closed.
  const log = `${sb.state}/logs/legacy.log`;
  await waitFor("a few probes, all sessions closed", async () => {
    const text = await Deno.readTextFile(log);
    const opened = (text.match(/ opened/g) ?? []).length;
    const closed = (text.match(/ closed/g) ?? []).length;
    return opened >= 4 && opened === closed;
  });
});

Deno.test("health: mcp-config waits for a starting server's first probe, so an HTTP+SSE server is written as sse", async () => {
  await using sb = await Sandbox.create();
  const port = freePort();
  await sb.writeConfig(
    "legacy",
    `command "${deno}"\nargs "run" "-A" "--config" "${ROOT}deno.json" "${FIXTURES}/sse_mcp_server.ts" ` +
      `"${port}"\nport ${port}\nautostart #false\n` +
      `health {\n  mcp "/sse"\n  start-period "60s"\n}`,
  );
  await sb.daemon();
  assertEquals((await sb.cli(["start", "legacy"])).code, 0);
  const config = await sb.cli(["mcp-config", "--client", "vscode"]);
  assertEquals(config.code, 0, config.stderr);
  assertEquals(JSON.parse(config.stdout).servers.legacy, {
    type: "sse",
    url: `http://127.0.0.1:${port}/sse`,
  });
  assertEquals(config.stderr, "");
});

Deno.test("health: an HTTP server that starts answering 500 becomes unhealthy and is restarted", async () => {
  await using sb = await Sandbox.create();
  const port = freePort();
  await sb.writeConfig(
    "web",
    httpServer(
      port,
      `"--fail-after" "3"`,
      `health {\n  http "/healthz"\n  interval "100ms"\n  retries 2\n}\nrestart { backoff-initial "10ms"; }`,
    ),
  );
  await sb.daemon();
  const s = await waitFor("web restarted for failing its probes", async () => {
    const st = await status(sb, "web");
    return st.restart_count >= 1 ? st : null;
  }, 20_000);
  assert(
    s.transitions.some((t) =>
      t.to === "stopping" && t.reason === "unhealthy: 2 probes failed in a row: HTTP 500"
    ),
    JSON.stringify(s.transitions),
  );
});

Deno.test("health: a process that never opens its port fails after the start period, and ends failed by the retry cap", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig(
    "mute",
    `command "sleep"\nargs "1000"\nport ${freePort()}\n` +
      `health {\n  tcp\n  start-period "300ms"\n}\n` +
      `restart {\n  backoff-initial "10ms"\n  max-retries-per-minute 2\n}`,
  );
  await sb.daemon();
  const s = await waitFor("mute failed", async () => {
    const st = await status(sb, "mute");
    return st.state === "failed" ? st : null;
  }, 20_000);
  assertMatch(
    s.last_error!,
    /^not ready after 300ms: connection refused; 2 restarts within 60s \(max-retries-per-minute 2\)$/,
  );
  assertEquals(s.restart_count, 2);
});

Deno.test("health: start --wait returns once a slow server is ready, and exits 1 for one that never is", async () => {
  await using sb = await Sandbox.create();
  const port = freePort();
  await sb.writeConfig(
    "slow",
    httpServer(port, `"--ready-after" "1500"`, `autostart #false\nhealth { http "/healthz"; }`),
  );
  await sb.writeConfig(
    "never",
    `command "sleep"\nargs "1000"\nport ${freePort()}\nautostart #false\n` +
      `health {\n  tcp\n  start-period "1s"\n}`,
  );
  await sb.daemon();
  const t0 = Date.now();
  const r = await sb.cli(["start", "slow", "--wait"]);
  assertEquals(r.code, 0, r.stderr);
  assert(Date.now() - t0 >= 1500, "returned before the server was ready");
  assertEquals(r.stdout, "started: slow\nup: slow\n");
  assertEquals((await status(sb, "slow")).health, "healthy");
  const bad = await sb.cli(["start", "never", "--wait"]);
  assertEquals(bad.code, 1);
  assertMatch(bad.stderr, /^xy: never did not come up: not ready after 1s: connection refused\n/);
  const late = await sb.cli(["restart", "slow", "--wait", "--timeout", "200ms"]);
  assertEquals(late.code, 1);
  assertMatch(late.stderr, /^xy: timed out after 200ms waiting for slow \(starting\)\n/);
});

Deno.test("dependencies: a dependent is blocked until its dependency is ready, then spawned; stop takes dependents first", async () => {
  await using sb = await Sandbox.create();
  const port = freePort();
  await sb.writeConfig(
    "base",
    httpServer(port, `"--ready-after" "800"`, `health {\n  http "/healthz"\n  interval "100ms"\n}`),
  );
  await sb.writeConfig(
    "top",
    `command "sleep"\nargs "1000"\nport ${freePort()}\ndepends-on "base"`,
  );
  await sb.daemon();
  const blocked = await waitFor("top blocked", async () => {
    const st = await status(sb, "top");
    return st.state === "blocked" ? st : null;
  });
  assertEquals(blocked.waiting_for, [{ name: "base", state: "starting" }]);
  assertEquals(blocked.pid, undefined);
  const list = await sb.call<ServerSummary[]>("list");
  assertEquals(list.find((r) => r.name === "top")?.state, "blocked");
  const [b, t] = await waitFor("both running", async () => {
    const [b, t] = [await status(sb, "base"), await status(sb, "top")];
    return b.state === "running" && t.state === "running" ? [b, t] : null;
  });
  const ready = b.transitions.find((x) => x.reason.startsWith("ready:"))!.at_unix_ms;
  const spawned = t.transitions.find((x) => x.reason.startsWith("spawned"))!.at_unix_ms;
  assert(spawned >= ready, `top spawned at ${spawned}, before base was ready at ${ready}`);

  const stop = await sb.cli(["stop", "base"]);
  assertEquals(stop.code, 0, stop.stderr);
  assertEquals(stop.stdout, "stopped: base\nstopped first, as they depend on those: top\n");
  assertEquals((await status(sb, "top")).state, "stopped");

  const start = await sb.cli(["start", "top", "--wait"]);
  assertEquals(start.code, 0, start.stderr);
  assertEquals(
    start.stdout,
    "started: base\nblocked until their dependencies are up: top\nup: top\n",
  );
});

Deno.test("health: mcp-config names a stopped or starting server on stderr, and refuses one without an MCP endpoint", async () => {
  await using sb = await Sandbox.create();
  const port = freePort();
  await sb.writeConfig(
    "api",
    `command "sleep"\nargs "60"\nport ${port}\nautostart #false\n` +
      `health {\n  mcp "/v1/mcp"\n  start-period "500ms"\n}\nrestart { backoff-initial "1m"; }`,
  );
  await sb.writeConfig("plain", `command "sleep"\nargs "60"\nport ${freePort()}\nautostart #false`);
  await sb.daemon();
  const ok = await sb.cli(["mcp-config", "--client", "cursor"]);
  assertEquals(ok.code, 0, ok.stderr);
  assertEquals(JSON.parse(ok.stdout), {
    mcpServers: { api: { url: `http://127.0.0.1:${port}/v1/mcp` } },
  });
  assertEquals(ok.stderr, `xy: note: "api" is stopped; xy start api brings it up\n`);
  // On its way up: mcp-config waits for its first probe, here until its start period is over
  // (it never answers), and says it is not up; no advice to start it.
  assertEquals((await sb.cli(["start", "api"])).code, 0);
  const starting = await sb.cli(["mcp-config", "api"]);
  assertEquals(starting.stderr, `xy: note: "api" is restarting, not up yet\n`);
  const plain = await sb.cli(["mcp-config", "plain"]);
  assertEquals(plain.code, 1);
  assertMatch(plain.stderr, /^xy: "plain" has no MCP endpoint/);
  const usage = await sb.cli(["mcp-config", "--client", "emacs"]);
  assertEquals(usage.code, 64);
  assertMatch(usage.stderr, /--client takes json, cursor, vscode, claude-code, found "emacs"/);
});

Deno.test("health: start --wait without health checks fails for a server that dies right after it spawned, and a second start says it is starting", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig(
    "crash",
    `command "sh"\nargs "-c" "sleep 0.2; echo boom >&2; exit 1"\nport ${freePort()}\n` +
      `autostart #false`,
  );
  await sb.writeConfig(
    "steady",
    `command "sleep"\nargs "1000"\nport ${freePort()}\nautostart #false`,
  );
  await sb.writeConfig(
    "probing",
    `command "sleep"\nargs "1000"\nport ${freePort()}\nautostart #false\n` +
      `health {\n  tcp\n  start-period "1m"\n}`,
  );
  await sb.daemon();
  const bad = await sb.cli(["start", "crash", "--wait"]);
  assertEquals(bad.code, 1, bad.stdout);
  assertMatch(bad.stderr, /^xy: crash did not come up: exited with code 1/);
  assertMatch(bad.stderr, /\n {2}boom\n/);
  const t0 = Date.now();
  const good = await sb.cli(["start", "steady", "--wait"]);
  assertEquals(good.code, 0, good.stderr);
  assertEquals(good.stdout, "started: steady\nup: steady\n");
  assert(Date.now() - t0 >= 1_000, "up before it had stayed alive a second");

  // Spawned, not ready yet: a second start says what is true.
  assertEquals((await sb.cli(["start", "probing"])).stdout, "started: probing\n");
  const again = await sb.cli(["start", "probing", "steady"]);
  assertEquals(again.code, 0, again.stderr);
  assertEquals(again.stdout, "already running: steady\nstarting: probing\n");
});

Deno.test("dependencies: a blocked server names each dependency's shown state, down to the root cause", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig(
    "db",
    `command "sleep"\nargs "1000"\nport ${freePort()}\nautostart #false\n` +
      `health {\n  tcp\n  start-period "1m"\n}`,
  );
  await sb.writeConfig(
    "api",
    `command "sleep"\nargs "1000"\nport ${freePort()}\nautostart #false\ndepends-on "db"`,
  );
  await sb.writeConfig(
    "web",
    `command "sleep"\nargs "1000"\nport ${freePort()}\nautostart #false\ndepends-on "api"`,
  );
  await sb.daemon();
  const r = await sb.cli(["start", "web", "--wait", "--timeout", "700ms"]);
  assertEquals(r.code, 1);
  assertEquals(
    r.stderr,
    "xy: timed out after 700ms waiting for web (waiting for api (blocked: waiting for db (starting)))\n",
  );
  const web = await status(sb, "web");
  assertEquals(web.blocked_by, "waiting for api (blocked: waiting for db (starting))");
  assertEquals(web.waiting_for, [{
    name: "api",
    state: "blocked",
    waiting_for: [{ name: "db", state: "starting" }],
  }]);
  const rows = await sb.call<ServerSummary[]>("list");
  assertEquals(rows.map((x) => [x.name, x.state]), [
    ["api", "blocked"],
    ["db", "starting"],
    ["web", "blocked"],
  ]);
});
