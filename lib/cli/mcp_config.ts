/**
 * `xy mcp-config`: what an MCP client needs to reach the MCP servers xy runs,
 * in that client's own file format, to paste or to pipe into the file. A
 * server's endpoint is known from its `health { mcp "/path" }` block and its
 * port: `http://127.0.0.1:<port><path>`, served over streamable HTTP.
 */
import type { DaemonClient } from "../daemon/client.ts";
import { ExitCode, serverNotFound } from "../protocol/failures.ts";
import { UsageError } from "./usage_error.ts";
import { closest } from "../config/suggest.ts";
import { pollUntil } from "../deadline.ts";
import type { ServerSummary } from "../protocol/types.ts";
import { type AnyCommand, type Context, defineCommand, serverName } from "./command.ts";
import { CLIENT_NAMES, type ClientName, CLIENTS } from "./clients/clients.ts";
import { resolvePath } from "./resolve_path.ts";
import { resolvePaths } from "../daemon/paths.ts";
import { selfArgv } from "./connect.ts";

/** The clients whose format xy writes. */
export const MCP_CLIENTS = ["json", "cursor", "vscode", "claude-code"] as const;

/** One of {@link MCP_CLIENTS}. */
export type McpClient = typeof MCP_CLIENTS[number];

/** A server an MCP client can reach. */
export interface McpEndpoint {
  readonly name: string;
  readonly url: string;
  readonly state: string;
  /** Streamable HTTP unless its last handshake found the HTTP+SSE transport of 2024-11-05. */
  readonly transport: "streamable-http" | "sse";
  /** A stdio server's bearer token, when its endpoint asks for one (SPEC §11). */
  readonly token?: string;
}

/**
 * The endpoints of `names` (every server with an MCP endpoint when empty);
 * a named server that is not there, or has no endpoint, is an error.
 */
export function mcpEndpoints(
  rows: readonly ServerSummary[],
  names: readonly string[],
): McpEndpoint[] {
  const pick = names.length ? names.map((n) => rowOf(rows, n)) : rows.filter((r) => r.url);
  if (pick.length === 0) {
    throw new Error(
      'no server has an MCP endpoint: give one a health { mcp "/mcp" } block (its path) and a port',
    );
  }
  return pick.map((r) => {
    if (!r.url) {
      throw new Error(
        `"${r.name}" has no MCP endpoint: give it a health { mcp "/mcp" } block (its path)`,
      );
    }
    return {
      name: r.name,
      url: r.url,
      state: r.state,
      transport: r.transport ?? "streamable-http",
    };
  });
}

function rowOf(rows: readonly ServerSummary[], name: string): ServerSummary {
  const row = rows.find((r) => r.name === name);
  if (!row) throw serverNotFound(name, closest(name, rows.map((r) => r.name)));
  return row;
}

/**
 * The configuration text for `client`:
 * - `cursor`: `~/.cursor/mcp.json` or `.cursor/mcp.json`, `{"mcpServers": {name: {url}}}`;
 * - `vscode`: `.vscode/mcp.json`, `{"servers": {name: {type: "http", url}}}`;
 * - `claude-code`: `.mcp.json`, `{"mcpServers": {name: {type: "http", url}}}`;
 * - `json`: `{"servers": [{name, url, transport, state}]}`, for scripts.
 * A server found speaking the HTTP+SSE transport of 2024-11-05 gets `type: "sse"`
 * (Cursor tells the two apart by itself).
 */
export function mcpConfig(endpoints: readonly McpEndpoint[], client: McpClient): string {
  const each = (f: (e: McpEndpoint) => unknown) =>
    Object.fromEntries(endpoints.map((e) => [e.name, f(e)]));
  const headers = (e: McpEndpoint) =>
    e.token === undefined ? {} : { headers: { Authorization: `Bearer ${e.token}` } };
  const doc = client === "cursor"
    ? { mcpServers: each((e) => ({ url: e.url, ...headers(e) })) }
    : client === "vscode"
    ? { servers: each((e) => ({ type: typeOf(e), url: e.url, ...headers(e) })) }
    : client === "claude-code"
    ? { mcpServers: each((e) => ({ type: typeOf(e), url: e.url, ...headers(e) })) }
    : {
      servers: endpoints.map((e) => ({
        name: e.name,
        url: e.url,
        transport: e.transport,
        state: e.state,
        ...headers(e),
      })),
    };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The `type` VS Code and Claude Code give a remote server of `e`'s transport. */
function typeOf(e: McpEndpoint): "http" | "sse" {
  return e.transport === "sse" ? "sse" : "http";
}

/** What a start period is given to end in a state: a start that failed is stopped, then decided on. */
const SETTLE_MARGIN_MS = 2_000;

/** True while nothing is known yet of how `e` is reached: no probe of its run has come back. */
function unsettled(e: McpEndpoint, row: ServerSummary | undefined): boolean {
  return e.state === "starting" || (e.state === "running" && row?.health === "unknown");
}

/**
 * The endpoints of `names`, once the servers on their way up have been
 * probed (each within its start period): only a probe tells an HTTP+SSE
 * server from a streamable HTTP one, and an entry written before would name
 * the wrong transport.
 */
async function settledEndpoints(
  client: DaemonClient,
  names: readonly string[],
): Promise<McpEndpoint[]> {
  let rows = await client.call("list");
  let endpoints = mcpEndpoints(rows, names);
  const waiting = endpoints.filter((e) => unsettled(e, rows.find((r) => r.name === e.name)));
  if (waiting.length === 0) return endpoints;
  const periods = await Promise.all(
    waiting.map(async (e) =>
      (await client.call("status", { name: e.name })).health_check?.start_period_ms ?? 0
    ),
  );
  await pollUntil(async () => {
    rows = await client.call("list");
    endpoints = mcpEndpoints(rows, names);
    return !endpoints.some((e) => unsettled(e, rows.find((r) => r.name === e.name)));
  }, { timeoutMs: Math.max(...periods) + SETTLE_MARGIN_MS, firstDelayMs: 50, maxDelayMs: 250 });
  return endpoints;
}

/** The endpoints, each stdio server's with its token, asked of the daemon (never read from its files). */
async function withTokens(client: DaemonClient, endpoints: McpEndpoint[]): Promise<McpEndpoint[]> {
  return await Promise.all(endpoints.map(async (e) => {
    const { token } = await client.call("token", { name: e.name });
    return token === null ? e : { ...e, token };
  }));
}

/** A parsed `xy mcp-config`. */
interface McpConfigCommand {
  readonly kind: "mcp-config";
  readonly client: string;
  readonly names: readonly string[];
  readonly write: boolean;
  readonly project?: string;
  readonly dryRun: boolean;
  readonly force: boolean;
}

/** `xy mcp-config`, for the command table. */
export const mcpConfigCommand: AnyCommand = defineCommand({
  name: "mcp-config",
  usage: [
    "mcp-config [--client json|cursor|vscode|claude-code] [name…]",
    `mcp-config --client CLIENT --write [--project DIR] [--dry-run] [--force] [name…]`,
  ],
  summary: "what an MCP client needs to reach your MCP servers; --write puts it in its file",
  help: `Prints the configuration an MCP client needs to reach the MCP servers xy runs
(every server with a health { mcp "/path" } block and every stdio server, or
those named), in the client's own format, to paste or to pipe into its file:
  cursor        ~/.cursor/mcp.json (or .cursor/mcp.json in a project)
  vscode        .vscode/mcp.json
  claude-code   .mcp.json in a project
  json          a list of name, url, transport and state, for scripts (default)
Each server is reached at http://127.0.0.1:<port><path> over streamable HTTP, or
over HTTP+SSE (the 2024-11-05 transport) where its health check found that; a
stdio server at http://127.0.0.1:<port>/mcp, with its token in an
Authorization header unless it has auth "none".

--write merges them into the client's file instead (${CLIENT_NAMES.join(", ")};
with --project DIR, the project's file): an entry per server pointing at xy (for
claude-desktop, which takes only commands, one that runs xy connect <name>), in
place of the entry that starts the server itself (the same name, or the same
command and arguments), every other entry and key kept. A project's file gets no
token: its header refers to an environment variable, and xy says which. A backup
is kept beside the file; a second run changes nothing; --dry-run prints the
change; --force writes even where comments inside a replaced entry would go.`,
  options: {
    client: {
      type: "string",
      value: "CLIENT",
      help: `the client's format: ${MCP_CLIENTS.join(", ")} (default json)`,
    },
    write: { type: "boolean", help: "merge into the client's file instead of printing" },
    project: { type: "string", value: "DIR", help: "with --write: the project's file in DIR" },
    "dry-run": { type: "boolean", help: "with --write: print the change, write nothing" },
    force: { type: "boolean", help: "with --write: even if comments in a replaced entry go" },
  },
  parse: ({ values, positionals }): McpConfigCommand => {
    const write = values.write === true;
    const client = String(values.client ?? (write ? "" : "json"));
    for (const opt of ["project", "dry-run", "force"]) {
      if (values[opt] !== undefined && !write) {
        throw new UsageError(`mcp-config: --${opt} goes with --write`);
      }
    }
    if (write) {
      if (!(CLIENT_NAMES as readonly string[]).includes(client)) {
        throw new UsageError(
          `mcp-config: --write needs --client, one of ${CLIENT_NAMES.join(", ")}` +
            (client ? `, found "${client}"` : ""),
        );
      }
    } else if (!(MCP_CLIENTS as readonly string[]).includes(client)) {
      throw new UsageError(
        `mcp-config: --client takes ${MCP_CLIENTS.join(", ")}, found "${client}"` +
          ((CLIENT_NAMES as readonly string[]).includes(client) ? ` (or add --write)` : ""),
      );
    }
    return {
      kind: "mcp-config",
      client,
      names: positionals.map(serverName),
      write,
      ...(values.project === undefined
        ? {}
        : { project: resolvePath(String(values.project), Deno.cwd()) }),
      dryRun: values["dry-run"] === true,
      force: values.force === true,
    };
  },
  run: async (cmd, ctx) => {
    const client = await ctx.client();
    const endpoints = await withTokens(client, await settledEndpoints(client, cmd.names));
    if (cmd.write) return await write(cmd, ctx, client, endpoints);
    ctx.io.out(mcpConfig(endpoints, cmd.client as McpClient));
    for (const e of endpoints) {
      if (e.state === "stopped" || e.state === "failed" || e.state === "stopping") {
        ctx.io.err(`xy: note: "${e.name}" is ${e.state}; xy start ${e.name} brings it up\n`);
      } else if (e.state !== "running") {
        // Starting (its start period is over), blocked, restarting: on its way up already.
        ctx.io.err(`xy: note: "${e.name}" is ${e.state}, not up yet\n`);
      }
    }
    return ExitCode.Ok;
  },
});

/** `--write`: the endpoints merged into the client's file (clients/write.ts, loaded now). */
async function write(
  cmd: McpConfigCommand,
  ctx: Context,
  client: DaemonClient,
  endpoints: readonly McpEndpoint[],
): Promise<number> {
  const { writeClientFile } = await import("./clients/write.ts");
  const { homeOf } = await import("./import_command.ts");
  const home = homeOf(ctx.io);
  const servers = await Promise.all(endpoints.map(async (e) => {
    const s = await client.call("status", { name: e.name });
    return {
      name: e.name,
      url: e.url,
      transport: e.transport,
      ...(e.token === undefined ? {} : { token: e.token }),
      command: s.command,
      args: s.args,
    };
  }));
  // A client that starts commands starts them with its own environment: the paths that are not
  // the defaults under HOME go with the command.
  const defaults = resolvePaths({}, (k) => (k === "HOME" ? home.home : undefined));
  const env: Record<string, string> = {
    ...(ctx.paths.configDir === defaults.configDir ? {} : { XY_CONFIG_DIR: ctx.paths.configDir }),
    ...(ctx.paths.stateDir === defaults.stateDir ? {} : { XY_STATE_DIR: ctx.paths.stateDir }),
    ...(ctx.paths.socket === defaults.socket ? {} : { XY_SOCKET: ctx.paths.socket }),
  };
  return await writeClientFile({
    client: cmd.client as ClientName,
    ...(cmd.project ? { project: cmd.project } : {}),
    dryRun: cmd.dryRun,
    force: cmd.force,
    home,
    servers: CLIENTS[cmd.client as ClientName].commandsOnly
      ? servers.filter((s) => s.transport === "streamable-http")
      : servers,
    connect: (name) => {
      const [command, ...args] = selfArgv(["connect", name]);
      return { command: command!, args, ...(Object.keys(env).length ? { env } : {}) };
    },
  }, ctx.io);
}
