/**
 * `xy mcp-config --client CLIENT --write` through the real CLI and daemon,
 * on real client files under a temp HOME (tests/fixtures/clients/): each
 * server's entry put in place of the one that started it, every other entry
 * and key kept, a backup, a second run that changes nothing; the client then
 * reaches the server through what was written.
 */
import { assertEquals, assertMatch } from "../assert.ts";
import { parse as parseJsonc } from "jsonc-parser";
import { parse as parseToml } from "smol-toml";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { denoDir, Sandbox, waitFor } from "./harness.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const FIXTURES = `${ROOT}/tests/fixtures/clients`;
const deno = Deno.execPath();

async function fixture(name: string): Promise<string> {
  return (await Deno.readTextFile(`${FIXTURES}/${name}`)).replaceAll("@DENO@", deno)
    .replaceAll("@ROOT@", ROOT);
}

/** A sandbox whose HOME holds `fixture` at `path`, its servers imported from it. */
async function imported(client: string, fixtureName: string, path: string) {
  const sb = await Sandbox.create();
  const home = `${sb.dir}/home`;
  const file = `${home}/${path}`;
  await Deno.mkdir(file.slice(0, file.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(file, await fixture(fixtureName));
  // The fixtures' browser server runs `npx -y @playwright/mcp@latest`: here `npx` is the example
  // stdio server, so a daemon that starts it fetches nothing and it answers as an MCP server does.
  const bin = `${sb.dir}/bin`;
  await Deno.mkdir(bin);
  await Deno.writeTextFile(
    `${bin}/npx`,
    `#!/bin/sh\nexec ${JSON.stringify(deno)} run -A --config ${
      JSON.stringify(`${ROOT}/deno.json`)
    } ` +
      `${JSON.stringify(`${ROOT}/examples/stdio_server.ts`)}\n`,
    { mode: 0o755 },
  );
  const env = {
    HOME: home,
    DENO_DIR: denoDir(),
    XY_TEST_SECRET: "s3cret",
    XDG_CONFIG_HOME: "",
    PATH: `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
  };
  const r = await sb.cli(["import", "--from", client], { ...env, XY_NO_AUTOSTART: "1" });
  assertEquals(r.code, 0, r.stderr);
  const cli = (args: string[]) => sb.cli(args, env);
  return { sb, home, file, env, cli };
}

const tokenOf = async (sb: Sandbox, name: string) =>
  (await sb.call<{ token: string }>("token", { name })).token;
const urlOf = async (sb: Sandbox, name: string) =>
  (await sb.call<{ url: string }>("status", { name })).url;
const backups = (file: string) =>
  [...Deno.readDirSync(file.slice(0, file.lastIndexOf("/")))].filter((e) =>
    e.name.startsWith(`${file.slice(file.lastIndexOf("/") + 1)}.xy-backup-`)
  ).map((e) => e.name);

Deno.test("mcp-config --write, cursor: each entry replaced by xy's, the rest kept; twice changes nothing; the client gets in", async () => {
  const { sb, file, cli } = await imported("cursor", "cursor.json", ".cursor/mcp.json");
  await using _ = sb;
  const before = parseJsonc(await Deno.readTextFile(file));
  const started = await cli(["start", "notes", "--wait"]);
  assertEquals(started.code, 0, started.stderr);
  const w = await cli(["mcp-config", "--client", "cursor", "--write"]);
  assertEquals(w.code, 0, w.stderr);
  assertMatch(
    w.stdout,
    /^wrote .*mcp\.json: my-browser, notes \(replacing "My Browser" → my-browser\)\n/,
  );
  const after = parseJsonc(await Deno.readTextFile(file));
  const [notes, browser] = [await tokenOf(sb, "notes"), await tokenOf(sb, "my-browser")];
  assertEquals(after.mcpServers, {
    notes: { url: await urlOf(sb, "notes"), headers: { Authorization: `Bearer ${notes}` } },
    "my-browser": {
      url: await urlOf(sb, "my-browser"),
      headers: { Authorization: `Bearer ${browser}` },
    },
    github: before.mcpServers.github,
    secret: before.mcpServers.secret,
  });
  assertEquals((await Deno.stat(file)).mode! & 0o777, 0o600);
  const saved = backups(file);
  assertEquals(saved.length, 1);
  assertEquals(
    parseJsonc(await Deno.readTextFile(`${file.slice(0, file.lastIndexOf("/"))}/${saved[0]}`)),
    before,
  );
  // Again: nothing to do, the bytes as they were, no second backup.
  const bytes = await Deno.readFile(file);
  const again = await cli(["mcp-config", "--client", "cursor", "--write"]);
  assertEquals(again.code, 0, again.stderr);
  assertMatch(again.stdout, /^unchanged: /);
  assertEquals(await Deno.readFile(file), bytes);
  assertEquals(backups(file).length, 1);
  // A client configured by the file gets in.
  const entry = after.mcpServers.notes as { url: string; headers: Record<string, string> };
  const client = new Client({ name: "cursor-like", version: "1" });
  const transport = new StreamableHTTPClientTransport(new URL(entry.url), {
    requestInit: { headers: entry.headers },
  });
  await client.connect(transport);
  try {
    assertEquals((await client.listTools()).tools.length, 3);
  } finally {
    await transport.terminateSession().catch(() => {});
    await client.close();
  }
});

Deno.test("mcp-config --write, vscode: comments outside the replaced entries stay; one inside needs --force", async () => {
  const { sb, file, cli } = await imported("vscode", "vscode.json", ".config/Code/User/mcp.json");
  await using _ = sb;
  const dry = await cli(["mcp-config", "--client", "vscode", "--write", "--dry-run", "my-browser"]);
  assertEquals(dry.code, 0, dry.stderr);
  assertMatch(
    dry.stdout,
    /^would write .*mcp\.json: my-browser \(replacing "My Browser" → my-browser\)\n/,
  );
  assertMatch(dry.stdout, /\n- {5}"My Browser": /);
  assertMatch(dry.stdout, /\n\+ {7}"type": "http",\n/);
  assertEquals(backups(file), [], "a dry run writes nothing");
  const w = await cli(["mcp-config", "--client", "vscode", "--write", "my-browser"]);
  assertEquals(w.code, 0, w.stderr);
  const text = await Deno.readTextFile(file);
  assertMatch(text, /^\{\n {2}\/\/ Servers this workspace uses\.\n/);
  assertMatch(text, /\}, \/\/ from the shell\n/);
  assertMatch(text, /\/\* A remote one\. \*\//);
  assertMatch(text, /"inputs": \[/);
  assertEquals(parseJsonc(text).servers["my-browser"].type, "http");
  // The notes entry holds a comment (// from the shell): said, and kept unless --force.
  const refused = await cli(["mcp-config", "--client", "vscode", "--write", "notes"]);
  assertEquals(refused.code, 1);
  assertMatch(
    refused.stderr,
    /would drop comments \(line 11\) inside the entries xy replaces; --force/,
  );
  assertEquals(await Deno.readTextFile(file), text);
  const forced = await cli(["mcp-config", "--client", "vscode", "--write", "--force"]);
  assertEquals(forced.code, 0, forced.stderr);
  const servers = parseJsonc(await Deno.readTextFile(file)).servers;
  assertEquals(Object.keys(servers).sort(), ["github", "my-browser", "notes", "secret"]);
  assertEquals(servers.notes.type, "http");
});

Deno.test("mcp-config --write, codex: TOML tables replaced in place, the rest kept; twice changes nothing", async () => {
  const { sb, file, cli } = await imported("codex", "codex.toml", ".codex/config.toml");
  await using _ = sb;
  const w = await cli(["mcp-config", "--client", "codex", "--write"]);
  assertEquals(w.code, 0, w.stderr);
  const text = await Deno.readTextFile(file);
  // As plain JSON: the TOML parser makes objects without a prototype.
  const doc = JSON.parse(JSON.stringify(parseToml(text))) as Record<
    string,
    Record<string, Record<string, unknown>>
  >;
  assertEquals(doc.model, "gpt-5-codex" as unknown);
  assertEquals(doc.mcp_servers!.notes, {
    url: await urlOf(sb, "notes"),
    http_headers: { Authorization: `Bearer ${await tokenOf(sb, "notes")}` },
  });
  assertEquals(Object.keys(doc.mcp_servers!).sort(), ["github", "my-browser", "notes"]);
  assertMatch(text, /^# Codex settings\.\n/);
  assertMatch(
    text,
    /\[mcp_servers\.github\]\nurl = "https:\/\/api\.githubcopilot\.com\/mcp\/"\nbearer_token_env_var = "GITHUB_TOKEN"\n/,
  );
  const bytes = await Deno.readFile(file);
  const again = await cli(["mcp-config", "--client", "codex", "--write"]);
  assertMatch(again.stdout, /^unchanged: /);
  assertEquals(await Deno.readFile(file), bytes);
});

Deno.test("mcp-config --write: claude-desktop runs xy connect; a project's file gets no token; a broken file is left alone", async () => {
  const { sb, home, file, cli } = await imported(
    "claude-desktop",
    "claude_desktop_config.json",
    ".config/Claude/claude_desktop_config.json",
  );
  await using _ = sb;
  const w = await cli(["mcp-config", "--client", "claude-desktop", "--write", "notes"]);
  assertEquals(w.code, 0, w.stderr);
  const doc = JSON.parse(await Deno.readTextFile(file));
  assertEquals(doc.globalShortcut, "Ctrl+Space");
  assertEquals(doc.mcpServers.notes, {
    command: deno,
    args: ["run", "-A", `${ROOT}/main.ts`, "connect", "notes"],
    env: { XY_CONFIG_DIR: sb.config, XY_STATE_DIR: sb.state, XY_SOCKET: sb.socket },
  });
  // A project's file: the token by reference, and how to set it.
  const project = `${sb.dir}/work`;
  await Deno.mkdir(project);
  const p = await cli([
    "mcp-config",
    "--client",
    "claude-code",
    "--write",
    "--project",
    project,
    "notes",
  ]);
  assertEquals(p.code, 0, p.stderr);
  const token = await tokenOf(sb, "notes");
  const mcp = JSON.parse(await Deno.readTextFile(`${project}/.mcp.json`));
  assertEquals(mcp.mcpServers.notes.headers, { Authorization: "Bearer ${XY_TOKEN_NOTES}" });
  assertEquals(JSON.stringify(mcp).includes(token), false);
  assertMatch(p.stdout, new RegExp(`export XY_TOKEN_NOTES=${token}\n`));
  // A file that does not parse: named, and not touched.
  const broken = `${home}/.cursor/mcp.json`;
  await Deno.mkdir(`${home}/.cursor`, { recursive: true });
  await Deno.writeTextFile(broken, `{"mcpServers": {`);
  const bad = await cli(["mcp-config", "--client", "cursor", "--write"]);
  assertEquals(bad.code, 1);
  assertMatch(bad.stderr, /mcp\.json:1:\d+: not JSON/);
  assertEquals(await Deno.readTextFile(broken), `{"mcpServers": {`);
  const usage = await cli(["mcp-config", "--write"]);
  assertEquals(usage.code, 64);
});

Deno.test("mcp-config --write: a file the client changes while xy works is left as the client wrote it", async () => {
  const { sb, file, cli } = await imported("cursor", "cursor.json", ".cursor/mcp.json");
  await using _ = sb;
  const first = await Deno.readTextFile(file);
  // The file as a pipe: xy's first read gets one text, its check before the swap another,
  // as when a client rewrites its file while xy merges it.
  await Deno.remove(file);
  assertEquals((await new Deno.Command("mkfifo", { args: [file] }).output()).code, 0);
  const write = cli(["mcp-config", "--client", "cursor", "--write"]);
  const feed = async (text: string) => {
    const f = await Deno.open(file, { write: true });
    await f.write(new TextEncoder().encode(text));
    f.close();
  };
  await feed(first);
  // Its backup is made between the two reads: once it is there, the first read is over (a
  // writer that opened the pipe sooner would run on into the same read).
  await waitFor("the first read, and the backup", () => backups(file).length === 1);
  await feed(first.replace('"secret"', '"secret2"'));
  const r = await write;
  assertEquals(r.code, 1, r.stdout);
  assertMatch(
    r.stderr,
    /changed while xy worked on it \(does the client rewrite it\?\); run again/,
  );
  assertEquals((await Deno.lstat(file)).isFifo, true, "not replaced");
  const dir = file.slice(0, file.lastIndexOf("/"));
  assertEquals([...Deno.readDirSync(dir)].filter((e) => e.name.includes(".tmp")), []);
});
