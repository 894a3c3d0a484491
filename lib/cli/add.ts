/**
 * `xy add` and `xy remove` (SPEC §12): one server in or out, as `pm2 start
 * cmd --name x` does it — the file written as a person would write it,
 * checked, and that one server started and waited for, touching no other.
 */
import { serverKdl } from "../config/write.ts";
import { ExitCode } from "../protocol/failures.ts";
import { formatConfigErrors } from "./config_check.ts";
import { type AnyCommand, defineCommand, serverName } from "./command.ts";
import { connectIfRunning } from "./connect.ts";
import { lifecycle } from "./lifecycle.ts";
import { resolvePath } from "./resolve_path.ts";
import { UsageError } from "./usage_error.ts";
import type { Context } from "./command.ts";
import type { DaemonClient } from "../daemon/client.ts";

/** A parsed `xy add`. */
export interface AddCommand {
  readonly kind: "add";
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly port?: number;
  readonly stdio: boolean;
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly start: boolean;
  /** The MCP path to probe (a server that listens itself); null for none. */
  readonly healthPath: string | null;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    throw new UsageError(`add: --port takes a port from 1 to 65535, found "${text}"`);
  }
  return port;
}

/** `xy add`, for the command table. */
export const addCommand: AnyCommand = defineCommand({
  name: "add",
  usage: [
    "add <name> [--port N] [--stdio] [--env K=V]… [--cwd DIR] [--no-start] -- <command> [args…]",
  ],
  summary: "write a server's config file, start it and print its URL",
  help: `Writes <config dir>/<name>.kdl for <command> and starts that one server (no
other is touched), waiting for it as start --wait does; then prints its URL.
  --stdio      an MCP server that speaks stdio: xy serves it at
               http://127.0.0.1:<port>/mcp, on a free port unless --port says
  otherwise    the command listens on --port itself (required), probed with
               health { mcp "/mcp" } (--health-path P for another, --no-health
               for none)
Put -- before a command whose arguments start with a dash. An existing file is
never written over.`,
  options: {
    port: { type: "string", value: "N", help: "the port (a stdio server's: where xy serves it)" },
    stdio: { type: "boolean", help: "the command speaks MCP over stdio" },
    env: { type: "string", value: "K=V", multiple: true, help: "a variable for it (repeat)" },
    cwd: { type: "string", value: "DIR", help: "its working directory" },
    "no-start": { type: "boolean", help: "write the file only; start it later" },
    "health-path": { type: "string", value: "P", help: "the MCP path to probe (default /mcp)" },
    "no-health": { type: "boolean", help: "no health check (a server that is not MCP)" },
  },
  parse: ({ values, positionals }): AddCommand => {
    const [name, command, ...args] = positionals;
    if (!name || !command) {
      throw new UsageError("add: give a name and a command: xy add <name> -- <command> [args…]");
    }
    serverName(name);
    const stdio = values.stdio === true;
    if (stdio && (values["health-path"] !== undefined || values["no-health"])) {
      throw new UsageError(
        "add: a --stdio server is checked by xy over its stdio: no health options",
      );
    }
    if (!stdio && values.port === undefined) {
      throw new UsageError(
        "add: a server that is not --stdio listens itself: give its --port (or --stdio, if it speaks stdio)",
      );
    }
    const env: Record<string, string> = {};
    for (const kv of (values.env ?? []) as readonly string[]) {
      const eq = kv.indexOf("=");
      if (eq <= 0) throw new UsageError(`add: --env takes K=V, found "${kv}"`);
      env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    const healthPath = values["no-health"] ? null : String(values["health-path"] ?? "/mcp");
    if (healthPath !== null && !healthPath.startsWith("/")) {
      throw new UsageError(`add: --health-path is a path from "/", found "${healthPath}"`);
    }
    return {
      kind: "add",
      name,
      command,
      args,
      ...(values.port === undefined ? {} : { port: parsePort(String(values.port)) }),
      stdio,
      env,
      ...(values.cwd === undefined ? {} : { cwd: String(values.cwd) }),
      start: values["no-start"] !== true,
      healthPath,
    };
  },
  run: (cmd, ctx) => add(cmd, ctx),
});

async function add(cmd: AddCommand, ctx: Context): Promise<number> {
  // Loaded on demand: the KDL parser is not needed by the commands that only talk to the daemon.
  const { choosePort, FileExistsError, portsNamed, writeServerFile } = await import(
    "./new_server.ts"
  );
  const { configDir } = ctx.paths;
  const here = Deno.cwd();
  const taken = await portsNamed(configDir);
  if (cmd.port !== undefined && taken.has(cmd.port)) {
    ctx.io.err(`xy: port ${cmd.port} is named by another server's file in ${configDir}\n`);
    return ExitCode.Error;
  }
  const port = cmd.port ?? await choosePort(taken);
  // A command given as a path runs from anywhere: the daemon runs in /.
  const command = cmd.command.includes("/") ? resolvePath(cmd.command, here) : cmd.command;
  const text = serverKdl({
    command,
    args: cmd.args,
    port,
    env: cmd.env,
    ...(cmd.cwd === undefined ? {} : { workingDir: resolvePath(cmd.cwd, here) }),
    ...(cmd.stdio ? { stdio: {} } : cmd.healthPath === null ? {} : { mcpPath: cmd.healthPath }),
    comment: ["Written by `xy add`."],
  });
  let written;
  try {
    written = await writeServerFile(configDir, cmd.name, text);
  } catch (e) {
    if (!(e instanceof FileExistsError)) throw e;
    ctx.io.err(`xy: ${e.message}\n`);
    return ExitCode.Error;
  }
  if (written.invalid) {
    ctx.io.err(formatConfigErrors([written.invalid]));
    ctx.io.err(`xy: ${written.file} was not kept\n`);
    return ExitCode.ConfigInvalid;
  }
  ctx.io.out(`added ${cmd.name}: ${written.file}\n`);
  if (!cmd.start) {
    // Known to a daemon that runs, stopped; one that does not is not started for this.
    const running = (await connectIfRunning(ctx.paths))?.client;
    if (running) {
      await running.call("reload", { names: [cmd.name], start: false });
      await running.close();
    }
    ctx.io.out(`start it with: xy start ${cmd.name}\n`);
    return ExitCode.Ok;
  }
  const client = await ctx.client();
  await client.call("reload", { names: [cmd.name], start: false });
  const code = await lifecycle(
    client,
    { kind: "start", names: [cmd.name], all: false, wait: true },
    ctx.io,
  );
  await printUrl(client, cmd.name, ctx);
  return code;
}

/** Where clients reach it, and how they get its token. */
async function printUrl(client: DaemonClient, name: string, ctx: Context) {
  const s = await client.call("status", { name });
  if (!s.url) {
    ctx.io.out(`${name}: port ${s.port}\n`);
    return;
  }
  const { token } = await client.call("token", { name });
  ctx.io.out(
    `${name}: ${s.url}` +
      (token ? ` (token required: xy mcp-config --client <client> ${name} gives it)` : "") +
      "\n",
  );
}

/** `xy remove`, for the command table. */
export const removeCommand: AnyCommand = defineCommand({
  name: "remove",
  usage: ["remove <name>"],
  summary: "stop a server and delete its config file",
  help: `Stops the server (and first the running servers that depend on it) and
deletes <config dir>/<name>.kdl.`,
  options: {},
  parse: ({ positionals }) => {
    if (positionals.length !== 1) throw new UsageError("remove takes one server name");
    return { kind: "remove", name: serverName(positionals[0]!) };
  },
  run: async (cmd, ctx) => {
    const file = `${ctx.paths.configDir}/${cmd.name}.kdl`;
    try {
      await Deno.lstat(file);
    } catch {
      ctx.io.err(`xy: no file ${file}: "${cmd.name}" is not a server of this config dir\n`);
      return ExitCode.Error;
    }
    const running = (await connectIfRunning(ctx.paths))?.client;
    try {
      if (running) {
        const known = (await running.call("list")).some((r) => r.name === cmd.name);
        if (known) {
          const code = await lifecycle(
            running,
            { kind: "stop", names: [cmd.name], all: false, wait: false },
            ctx.io,
          );
          if (code !== ExitCode.Ok) return code;
        }
      }
      await Deno.remove(file);
      // The daemon forgets it (reading that one file only).
      if (running) await running.call("reload", { names: [cmd.name] });
    } finally {
      await running?.close();
    }
    ctx.io.out(`removed ${cmd.name}: ${file}\n`);
    return ExitCode.Ok;
  },
});
