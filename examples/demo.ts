/**
 * `deno task demo`: runs xy on the example servers in a temp dir. Starts the
 * daemon in the background; shows the MCP server `starting` until its
 * handshake answers and its dependent `blocked` until then; shows its status
 * with the server's own name and protocol; connects two MCP clients to the
 * stdio server xy serves, with the token `mcp-config` gives them, and shows
 * them sharing its one process; kills the HTTP one to show the restart;
 * shows a failed server's status, and stops everything.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const root = new URL("../", import.meta.url).pathname;
const deno = Deno.execPath();
const dir = await Deno.makeTempDir({ prefix: "xy-demo" });
const env = {
  XY_CONFIG_DIR: `${dir}/servers`,
  XY_STATE_DIR: `${dir}/state`,
  XY_SOCKET: `${dir}/xy.sock`,
};
await Deno.mkdir(env.XY_CONFIG_DIR, { mode: 0o700 });
for await (const f of Deno.readDir(`${root}examples/servers`)) {
  const text = await Deno.readTextFile(`${root}examples/servers/${f.name}`);
  await Deno.writeTextFile(
    `${env.XY_CONFIG_DIR}/${f.name}`,
    text.replace(`command "deno"`, `command ${JSON.stringify(deno)}`)
      .replace(`"deno.json"`, JSON.stringify(`${root}deno.json`))
      .replace(`"examples/mcp_server.ts"`, JSON.stringify(`${root}examples/mcp_server.ts`))
      .replace(`"examples/stdio_server.ts"`, JSON.stringify(`${root}examples/stdio_server.ts`)),
    // xy refuses config files that other users could change.
    { mode: 0o600 },
  );
}

async function xy(...args: string[]): Promise<string> {
  say(`$ xy ${args.join(" ")}`);
  const out = await new Deno.Command(deno, { args: ["run", "-A", `${root}main.ts`, ...args], env })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  say(text);
  return text;
}

function say(text: string) {
  Deno.stdout.writeSync(new TextEncoder().encode(text.endsWith("\n") ? text : `${text}\n`));
}

async function until(what: string, check: () => Promise<boolean>) {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`demo: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function rows(): Promise<{ name: string; state: string; pid?: number }[]> {
  const out = await new Deno.Command(deno, {
    args: ["run", "-A", `${root}main.ts`, "list", "--json"],
    env,
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/** Two MCP clients on the stdio server `memo`, configured by `xy mcp-config`: one child serves both. */
async function shareStdio() {
  await until("memo to be running", async () => {
    return (await rows()).some((r) => r.name === "memo" && r.state === "running");
  });
  const config = JSON.parse(await xy("mcp-config", "--client", "cursor", "memo"));
  const entry = config.mcpServers.memo as { url: string; headers: Record<string, string> };
  const connect = async (name: string) => {
    const client = new Client({ name, version: "1.0.0" });
    const transport = new StreamableHTTPClientTransport(new URL(entry.url), {
      requestInit: { headers: entry.headers },
    });
    await client.connect(transport);
    return { client, transport };
  };
  const text = (r: unknown) => (r as { content: { text: string }[] }).content[0]!.text;
  const a = await connect("editor");
  const b = await connect("assistant");
  say("Two clients on memo: editor saves a note, assistant lists the notes.\n");
  say(
    `editor:    ${
      text(
        await a.client.callTool({
          name: "add_note",
          arguments: { title: "groceries", text: "milk" },
        }),
      )
    }`,
  );
  say(`assistant: ${text(await b.client.callTool({ name: "list_notes", arguments: {} }))}`);
  say(`editor:    ${text(await a.client.callTool({ name: "wait", arguments: { steps: 1 } }))}`);
  say(`assistant: ${text(await b.client.callTool({ name: "wait", arguments: { steps: 1 } }))}\n`);
  await xy("status", "memo");
  for (const c of [a, b]) {
    await c.transport.terminateSession();
    await c.client.close();
  }
}

try {
  say(`config dir: ${env.XY_CONFIG_DIR}\n`);
  await xy("config", "check");
  await xy("daemon", "start");
  await until(
    "search to be blocked behind notes",
    async () => (await rows()).some((r) => r.name === "search" && r.state === "blocked"),
  );
  say("notes is starting (it takes 1.5s to answer); search waits for it:\n");
  await xy("list");
  await xy("start", "search", "--wait");
  await until(
    "flaky to give up",
    async () => (await rows()).some((r) => r.name === "flaky" && r.state === "failed"),
  );
  await xy("list");
  await xy("status", "notes");
  await shareStdio();
  const notes = (await rows()).find((r) => r.name === "notes")!;
  say(`Killing notes (pid ${notes.pid}) behind xy's back…\n`);
  Deno.kill(-notes.pid!, "SIGKILL");
  await until("notes to come back", async () => {
    const r = (await rows()).find((x) => x.name === "notes")!;
    return r.state === "running" && r.pid !== notes.pid;
  });
  await xy("list");
  await xy("status", "flaky");
  await xy("daemon", "stop");
} finally {
  await new Deno.Command(deno, { args: ["run", "-A", `${root}main.ts`, "daemon", "stop"], env })
    .output();
  await Deno.remove(dir, { recursive: true });
}
