/**
 * The command table: every command's name, options, parser, help text and
 * runner. Parsing (args.ts), dispatch (run.ts) and `--help` (help.ts) all
 * read it, so a command cannot exist without its help or vice versa.
 */
import { parseDuration } from "../config/units.ts";
import { ExitCode } from "../protocol/failures.ts";
import { UsageError } from "./usage_error.ts";
import type { WireStream } from "../protocol/types.ts";
import { VERSION } from "../version.ts";
import { type AnyCommand, type Args, defineCommand, noPositionals, serverName } from "./command.ts";
import { configCheck } from "./config_check.ts";
import { daemon, type DaemonAction } from "./daemon_command.ts";
import { formatList, formatStatus } from "./format.ts";
import { commandHelp, overview } from "./help.ts";
import { lifecycle } from "./lifecycle.ts";
import { logs } from "./logs.ts";
import { mcpConfigCommand } from "./mcp_config.ts";
import { addCommand, removeCommand } from "./add.ts";
import { importCommand } from "./import_command.ts";
import { reload } from "./reload.ts";
import { serviceCommand } from "./service.ts";

const json = { type: "boolean", help: "print JSON instead of a table" } as const;

/** The names of a lifecycle command, or `--all`. */
function targets(cmd: string, { values, positionals }: Args) {
  const all = values.all === true;
  if (all && positionals.length) {
    throw new UsageError(`${cmd}: give server names or --all, not both`);
  }
  if (!all && !positionals.length) throw new UsageError(`${cmd}: give server names or --all`);
  return { names: positionals.map(serverName), all };
}

function lifecycleCommand(kind: "start" | "stop" | "restart", summary: string, help: string) {
  const wait = kind !== "stop";
  return defineCommand({
    name: kind,
    usage: [`${kind} <name…> | --all${wait ? " [--wait [--timeout DURATION]]" : ""}`],
    summary,
    help,
    options: {
      all: { type: "boolean", help: "every configured server" },
      ...(wait
        ? {
          wait: {
            type: "boolean",
            help: "return once each is running and ready; exit 1 as soon as one fails",
          },
          timeout: {
            type: "string",
            value: "DURATION",
            help: "how long --wait waits (default: the start periods, plus 10s)",
          },
        } as const
        : {}),
    },
    parse: (a) => ({ kind, ...targets(kind, a), ...waitOptions(kind, a) }),
    run: async (cmd, ctx) => lifecycle(await ctx.client(), cmd, ctx.io),
  });
}

function waitOptions(cmd: string, { values }: Args) {
  const wait = values.wait === true;
  if (values.timeout === undefined) return { wait };
  if (!wait) throw new UsageError(`${cmd}: --timeout goes with --wait`);
  const ms = parseDuration(String(values.timeout));
  if (ms === undefined) {
    throw new UsageError(
      `${cmd}: --timeout takes a duration such as "30s" or "2m", found "${values.timeout}"`,
    );
  }
  return { wait, timeoutMs: ms };
}

/** Every command, in the order `xy --help` lists them. */
export const COMMANDS: readonly AnyCommand[] = [
  defineCommand({
    name: "daemon",
    usage: ["daemon", "daemon start|stop|status"],
    summary: "run the daemon in the foreground; or start, stop or show it in the background",
    help: `xy daemon             run the daemon in the foreground (Ctrl-C or SIGTERM stops it)
xy daemon start       start it in the background; returns once it answers
xy daemon stop        stop every server and the daemon; waits until it is gone
xy daemon status      is it running: pid, uptime, version`,
    options: {
      isolation: {
        type: "string",
        value: "worker|inline",
        help: "one Web Worker per server (default), or every supervisor on the daemon's thread " +
          "(less memory; env XY_ISOLATION)",
      },
      background: { type: "boolean", help: "log to <state>/daemon.log", hidden: true },
    },
    parse: ({ values, positionals }) => {
      const action = positionals[0] ?? "run";
      if (!["run", "start", "stop", "status"].includes(action) || positionals.length > 1) {
        throw new UsageError(
          `daemon: unknown action "${positionals.join(" ")}" (expected start, stop or status)`,
        );
      }
      const isolation = values.isolation;
      if (isolation !== undefined && isolation !== "worker" && isolation !== "inline") {
        throw new UsageError(`daemon: --isolation takes worker or inline, found "${isolation}"`);
      }
      return {
        kind: "daemon",
        action: action as DaemonAction,
        background: values.background === true,
        ...(isolation === undefined ? {} : { isolation: isolation as "worker" | "inline" }),
      };
    },
    run: (cmd, ctx) => daemon(cmd, ctx),
  }),
  defineCommand({
    name: "list",
    usage: ["list [--json]"],
    summary: "every server: state, pid, port, uptime, restarts, CPU, memory, health",
    help: `Shows every server: NAME STATE PID PORT UPTIME RESTARTS CPU MEM HEALTH.
CPU is a percentage of one core since the last sample, MEM resident memory, both
summed over the server's processes (its group, and those that left it). Files
that do not parse show as "invalid".`,
    options: { json },
    parse: ({ values, positionals }) => {
      noPositionals("list", positionals);
      return { kind: "list", json: values.json === true };
    },
    run: async (cmd, ctx) => {
      const client = await ctx.client();
      const rows = await client.call("list");
      if (rows.length === 0 && !cmd.json) {
        // A new user's first list: say where servers come from.
        const dir = (await client.call("daemon_info")).config_dir;
        ctx.io.out(
          `no servers configured: add a <name>.kdl to ${dir}, with a command and a port\n`,
        );
        return ExitCode.Ok;
      }
      ctx.io.out(cmd.json ? JSON.stringify(rows, null, 2) + "\n" : formatList(rows, ctx.style));
      return ExitCode.Ok;
    },
  }),
  defineCommand({
    name: "status",
    usage: ["status <name> [--json]"],
    summary: "everything about one server",
    help: `Shows one server: state, pid, port, url, uptime, restarts, last exit, last
error, recent transitions, recent stderr (when failed or restarting), and the
paths of its config and log files. Env values are never shown, only names.`,
    options: { json },
    parse: ({ values, positionals }) => {
      if (positionals.length !== 1) throw new UsageError(`status takes one server name`);
      return { kind: "status", name: serverName(positionals[0]!), json: values.json === true };
    },
    run: async (cmd, ctx) => {
      const s = await (await ctx.client()).call("status", { name: cmd.name });
      ctx.io.out(
        cmd.json ? JSON.stringify(s, null, 2) + "\n" : formatStatus(s, ctx.style, Date.now()),
      );
      return ExitCode.Ok;
    },
  }),
  lifecycleCommand(
    "start",
    "start servers",
    `Starts servers, and first the servers they depend on (depends-on). A server
whose dependencies are not up yet is blocked, with no process, and starts once
they are running and ready. --wait returns once each is running and, where it
has health checks, ready; it exits 1 as soon as one fails, printing its reason
and last stderr lines, or when --timeout passes.`,
  ),
  lifecycleCommand(
    "stop",
    "stop servers",
    `Stops servers: SIGTERM to the process group, then SIGKILL after the grace.
The servers that depend on them are stopped first, and named.`,
  ),
  lifecycleCommand(
    "restart",
    "stop and start servers again",
    `Stops (if running) and starts servers, clearing their backoff and retry window.
--wait and --timeout work as for start.`,
  ),
  defineCommand({
    name: "reload",
    usage: ["reload"],
    summary: "apply what changed in the config dir",
    help: `Re-reads the config dir: starts added servers, stops removed ones, restarts
changed ones and leaves the rest untouched. A file that became invalid leaves
its server running as it was; its errors are printed and the exit code is 3.
SIGHUP to the daemon does the same.`,
    options: {},
    parse: ({ positionals }) => {
      noPositionals("reload", positionals);
      return { kind: "reload" };
    },
    run: async (_cmd, ctx) => reload(await ctx.client(), ctx.io),
  }),
  defineCommand({
    name: "top",
    usage: ["top"],
    summary: "every server live: state, health, CPU, memory; keys to follow, restart, stop",
    help: `A live, full-screen view of every server (state, health, CPU, memory, restarts,
uptime), refreshed every second. Keys: arrows or j/k select; l or Enter follows
the selected server's log (Esc back); r restarts it; s stops or starts it; q or
Ctrl-C quits. Needs a terminal.`,
    options: {},
    parse: ({ positionals }) => {
      noPositionals("top", positionals);
      return { kind: "top" } as const;
    },
    run: async (_cmd, ctx) => {
      const { top } = await import("./top.ts");
      return await top(ctx);
    },
  }),
  defineCommand({
    name: "logs",
    usage: ["logs <name> [--tail N] [-f] [--stdout|--stderr] [--timestamps]"],
    summary: "a server's recent output; -f follows it",
    help: `Prints the server's recent output (the last N lines with --tail; from the log
files when memory holds fewer) and exits; -f then streams new lines until
Ctrl-C.`,
    options: {
      tail: { type: "string", short: "n", value: "N", help: "the last N lines" },
      follow: { type: "boolean", short: "f", help: "then stream new lines until Ctrl-C" },
      stdout: { type: "boolean", help: "stdout only" },
      stderr: { type: "boolean", help: "stderr only" },
      timestamps: { type: "boolean", short: "t", help: "prefix each line with its time" },
    },
    parse: ({ values, positionals }) => {
      if (positionals.length !== 1) throw new UsageError(`logs takes one server name`);
      if (values.stdout && values.stderr) {
        throw new UsageError(`logs: give --stdout or --stderr, not both`);
      }
      let tail: number | undefined;
      if (values.tail !== undefined) {
        tail = Number(values.tail);
        if (!/^\d+$/.test(String(values.tail)) || !Number.isSafeInteger(tail)) {
          throw new UsageError(`logs: --tail takes a whole number, found "${values.tail}"`);
        }
      }
      const stream: WireStream | undefined = values.stdout
        ? "stdout"
        : values.stderr
        ? "stderr"
        : undefined;
      return {
        kind: "logs",
        name: serverName(positionals[0]!),
        ...(tail === undefined ? {} : { tail }),
        follow: values.follow === true,
        ...(stream ? { stream } : {}),
        timestamps: values.timestamps === true,
      } as const;
    },
    run: async (cmd, ctx) => logs(await ctx.client(), cmd, ctx.io),
  }),
  defineCommand({
    name: "config",
    usage: ["config check"],
    summary: "validate every config file and print all errors",
    help: `Validates every <name>.kdl in the config dir and prints every error at once.
Exits 3 when any file is invalid.`,
    options: {},
    parse: ({ positionals }) => {
      if (positionals.length !== 1 || positionals[0] !== "check") {
        throw new UsageError(`config: unknown action "${positionals.join(" ")}" (expected check)`);
      }
      return { kind: "config", action: "check" } as const;
    },
    run: (_cmd, ctx) => configCheck(ctx.paths, ctx.io),
  }),
  addCommand,
  removeCommand,
  importCommand,
  defineCommand({
    name: "connect",
    usage: ["connect <name>"],
    summary: "speak stdio to a client and streamable HTTP to a server (for command-only clients)",
    help: `For an MCP client that only starts stdio servers (Claude Desktop): forwards every
message between its stdin/stdout and the server's URL, with the server's token,
so that client shares the one server xy runs too. Starts the daemon and the
server when they are not up; initializes again on the client's behalf if the
session is refused; ends when the client closes stdin. Nothing but protocol goes
to stdout. xy mcp-config --client claude-desktop --write writes the entries.`,
    options: {},
    parse: ({ positionals }) => {
      if (positionals.length !== 1) throw new UsageError("connect takes one server name");
      return { kind: "connect", name: serverName(positionals[0]!) };
    },
    run: async (cmd, ctx) => {
      const { connectShim } = await import("./stdio_shim.ts");
      return await connectShim(cmd.name, ctx);
    },
  }),
  serviceCommand,
  mcpConfigCommand,
  defineCommand({
    name: "help",
    usage: ["help [command]"],
    summary: "this text, or a command's",
    help: "Prints help: the overview, or one command's usage and options.",
    options: {},
    parse: ({ positionals }) => ({
      kind: "help",
      ...(positionals[0] ? { topic: positionals[0] } : {}),
    }),
    run: (cmd, ctx) => {
      const topic = COMMANDS.find((c) => c.name === cmd.topic);
      ctx.io.out(`${topic ? commandHelp(topic) : overview(COMMANDS)}\n`);
      return Promise.resolve(ExitCode.Ok);
    },
  }),
  defineCommand({
    name: "version",
    usage: ["version"],
    summary: "print the version",
    help: "Prints xy's version.",
    options: {},
    parse: () => ({ kind: "version" }),
    run: (_cmd, ctx) => {
      ctx.io.out(`xy ${VERSION}\n`);
      return Promise.resolve(ExitCode.Ok);
    },
  }),
];
