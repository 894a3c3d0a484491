/**
 * `xy add` and `xy remove` through the real CLI and daemon (SPEC §12): the
 * file as a person writes it, a chosen and a given port, the one server
 * started and answering, nothing written over, no other server touched.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { ServerSummary, StatusDetail } from "../../lib/protocol/types.ts";
import { CHOSEN_PORTS } from "../../lib/cli/new_server.ts";
import { freePort, Sandbox } from "./harness.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const deno = Deno.execPath();
const STDIO = [
  deno,
  "run",
  "-A",
  "--config",
  `${ROOT}deno.json`,
  `${ROOT}examples/stdio_server.ts`,
];

Deno.test("add: a stdio server on a port xy chooses: the file, started, its URL answering the SDK client", async () => {
  await using sb = await Sandbox.create();
  const added = await sb.cli([
    "add",
    "notes",
    "--stdio",
    "--env",
    "NOTES_MODE=fast",
    "--",
    ...STDIO,
  ]);
  assertEquals(added.code, 0, added.stderr);
  const file = `${sb.config}/notes.kdl`;
  assertMatch(added.stdout, new RegExp(`^added notes: ${file}\n`));
  assertMatch(added.stdout, /\nup: notes\n/);
  const url = added.stdout.match(/notes: (http:\/\/127\.0\.0\.1:(\d+)\/mcp) \(token required/);
  assert(url, added.stdout);
  const port = Number(url[2]);
  assert(port >= CHOSEN_PORTS.from && port <= CHOSEN_PORTS.to, `port ${port}`);
  assertEquals((await Deno.stat(file)).mode! & 0o777, 0o600);
  assertEquals(
    await Deno.readTextFile(file),
    `// Written by \`xy add\`.\ncommand ${JSON.stringify(deno)}\n` +
      `args "run" "-A" "--config" ${JSON.stringify(`${ROOT}deno.json`)} ` +
      `${JSON.stringify(`${ROOT}examples/stdio_server.ts`)}\n` +
      `port ${port}\nenv {\n    NOTES_MODE "fast"\n}\ntransport "stdio"\n`,
  );
  const { token } = await sb.call<{ token: string }>("token", { name: "notes" });
  const client = new Client({ name: "t", version: "1" });
  const transport = new StreamableHTTPClientTransport(new URL(url[1]!), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  try {
    const tools = (await client.listTools()).tools.map((t: { name: string }) => t.name).sort();
    assertEquals(tools, ["add_note", "list_notes", "wait"]);
  } finally {
    await transport.terminateSession().catch(() => {});
    await client.close();
  }
});

Deno.test("add: a server that listens on a given port gets its MCP probe; another's file is not touched; nothing is written over", async () => {
  await using sb = await Sandbox.create();
  const [web, other] = [freePort(), freePort()];
  await sb.writeConfig("other", `command "sleep"\nargs "1000"\nport ${other}\n`);
  await sb.daemon();
  // Changed on disk and not reloaded: adding a server must not apply it.
  await sb.writeConfig("other", `command "sleep"\nargs "2000"\nport ${other}\n`);
  const args = ["add", "web", "--port", String(web), "--", deno, "run", "-A", "--config"];
  const added = await sb.cli([
    ...args,
    `${ROOT}deno.json`,
    `${ROOT}examples/mcp_server.ts`,
    "--port",
    String(web),
  ]);
  assertEquals(added.code, 0, added.stderr);
  assertMatch(added.stdout, new RegExp(`web: http://127.0.0.1:${web}/mcp\n$`));
  assertMatch(
    await Deno.readTextFile(`${sb.config}/web.kdl`),
    /\nhealth \{\n {4}mcp "\/mcp"\n\}\n$/,
  );
  const s = await sb.call<StatusDetail>("status", { name: "web" });
  assertEquals([s.state, s.health, s.mcp?.name], ["running", "healthy", "xy-demo"]);
  const o = await sb.call<StatusDetail>("status", { name: "other" });
  assertEquals(o.args, ["1000"], "the other server's change was applied");
  // Again, under the same name: refused, naming the file, which stays as it was.
  const before = await Deno.readTextFile(`${sb.config}/web.kdl`);
  const again = await sb.cli(["add", "web", "--port", String(freePort()), "--", "sleep", "5"]);
  assertEquals(again.code, 1);
  assertMatch(again.stderr, new RegExp(`${sb.config}/web.kdl already exists`));
  assertEquals(await Deno.readTextFile(`${sb.config}/web.kdl`), before);
  // A port another file names is refused before anything is written.
  const clash = await sb.cli(["add", "web2", "--port", String(other), "--", "sleep", "5"]);
  assertEquals(clash.code, 1);
  assertMatch(clash.stderr, new RegExp(`port ${other} is named by another server's file`));
});

Deno.test("add: usage errors, an invalid file taken back, and --no-start", async () => {
  await using sb = await Sandbox.create();
  const noPort = await sb.cli(["add", "web", "--", "sleep", "5"]);
  assertEquals(noPort.code, 64);
  assertMatch(noPort.stderr, /give its --port/);
  const badName = await sb.cli(["add", "Web", "--stdio", "--", "sleep", "5"]);
  assertEquals(badName.code, 64);
  const badEnv = await sb.cli(["add", "web", "--stdio", "--env", "NOEQUALS", "--", "sleep", "5"]);
  assertEquals(badEnv.code, 64);
  // A file the loader refuses (a config dir others may write to) is not kept, and says why.
  await Deno.chmod(sb.config, 0o777);
  const refused = await sb.cli(["add", "bad", "--port", String(freePort()), "--", "sleep", "5"], {
    XY_NO_AUTOSTART: "1",
  });
  await Deno.chmod(sb.config, 0o700);
  assertEquals(refused.code, 3, refused.stderr);
  assertMatch(refused.stderr, /is writable by group or others \(mode 0777\)/);
  assertMatch(refused.stderr, new RegExp(`${sb.config}/bad.kdl was not kept`));
  assertEquals(await Deno.stat(`${sb.config}/bad.kdl`).then(() => true, () => false), false);
  const quiet = await sb.cli([
    "add",
    "later",
    "--port",
    String(freePort()),
    "--no-start",
    "--",
    "sleep",
    "5",
  ], {
    XY_NO_AUTOSTART: "1",
  });
  assertEquals(quiet.code, 0, quiet.stderr);
  assertMatch(quiet.stdout, /start it with: xy start later/);
  // No daemon was started for it.
  const list = await sb.cli(["list"], { XY_NO_AUTOSTART: "1" });
  assertEquals(list.code, 2);
});

Deno.test("remove: stops the server and deletes its file; the daemon forgets it", async () => {
  await using sb = await Sandbox.create();
  const port = freePort();
  await sb.writeConfig("gone", `command "sleep"\nargs "1000"\nport ${port}\n`);
  await sb.writeConfig("stays", `command "sleep"\nargs "1000"\nport ${freePort()}\n`);
  await sb.daemon();
  const removed = await sb.cli(["remove", "gone"]);
  assertEquals(removed.code, 0, removed.stderr);
  assertMatch(removed.stdout, /stopped: gone\n/);
  assertMatch(removed.stdout, new RegExp(`removed gone: ${sb.config}/gone.kdl\n`));
  const rows = await sb.call<ServerSummary[]>("list");
  assertEquals(rows.map((r) => [r.name, r.state]), [["stays", "running"]]);
  const missing = await sb.cli(["remove", "gone"]);
  assertEquals(missing.code, 1);
  assertMatch(missing.stderr, /is not a server of this config dir/);
});
