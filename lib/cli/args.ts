/** argv → a command (pure). Usage errors throw {@link UsageError}. */
import { parseArgs } from "node:util";
import { UsageError } from "../errors.ts";
import type { PathOverrides } from "../daemon/paths.ts";
import { isValidName } from "../config/schema.ts";

/** A parsed command line. */
export type Command =
  | { readonly kind: "help"; readonly topic?: string }
  | { readonly kind: "version" }
  | {
    readonly kind: "daemon";
    readonly action: "run" | "start" | "stop" | "status";
    readonly background: boolean;
  }
  | { readonly kind: "list"; readonly json: boolean }
  | { readonly kind: "status"; readonly name: string; readonly json: boolean }
  | {
    readonly kind: "start" | "stop" | "restart";
    readonly names: readonly string[];
    readonly all: boolean;
    readonly wait: boolean;
  }
  | { readonly kind: "config_check" }
  | { readonly kind: "reload" }
  | {
    readonly kind: "logs";
    readonly name: string;
    readonly tail?: number;
    readonly follow: boolean;
    readonly stream?: "stdout" | "stderr";
    readonly timestamps: boolean;
  };

/** A command with the path flags given on any command. */
export interface Parsed {
  readonly command: Command;
  readonly paths: PathOverrides;
}

const PATH_OPTIONS = {
  "config-dir": { type: "string" },
  "state-dir": { type: "string" },
  socket: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Help text per command; `""` is the overview. */
export const HELP: Record<string, string> = {
  "": `xy — keeps your local MCP servers (and any long-running command) alive

Usage: xy <command> [options]

Commands:
  daemon                 run the daemon in the foreground
  daemon start|stop|status
                         start it in the background, stop it, or show it
  list [--json]          every server: state, pid, port, uptime, restarts, health
  status <name> [--json] everything about one server
  start <name…>|--all [--wait]
  stop <name…>|--all
  restart <name…>|--all [--wait]
  config check           validate every config file and print all errors

Options on every command:
  --config-dir DIR       server configs (default $XDG_CONFIG_HOME/xy/servers; env XY_CONFIG_DIR)
  --state-dir DIR        logs, pidfile (default $XDG_STATE_HOME/xy; env XY_STATE_DIR)
  --socket PATH          control socket (default $XDG_RUNTIME_DIR/xy/xy.sock; env XY_SOCKET)
  -h, --help             help for a command
  -V, --version          print the version

Client commands start the daemon in the background when none is running
(XY_NO_AUTOSTART=1 turns that off).

Exit codes: 0 ok, 1 operational error, 2 daemon unreachable, 3 config invalid, 64 usage error.`,
  daemon:
    `Usage: xy daemon             run the daemon in the foreground (Ctrl-C or SIGTERM stops it)
       xy daemon start       start it in the background; returns once it answers
       xy daemon stop        stop every server and the daemon; waits until it is gone
       xy daemon status      is it running: pid, uptime, version`,
  list: `Usage: xy list [--json]

Shows every server: NAME STATE PID PORT UPTIME RESTARTS HEALTH.
Files that do not parse show as "invalid".`,
  status: `Usage: xy status <name> [--json]

Shows one server: state, pid, port, url, uptime, restarts, last exit, last
error, recent transitions, recent stderr (when failed or restarting), and the
paths of its config and log files. Env values are never shown, only names.`,
  start: `Usage: xy start <name…> | --all [--wait]

Starts servers. --wait returns once each is running, or exits 1 as soon as one
fails, printing its reason and last stderr lines.`,
  stop: `Usage: xy stop <name…> | --all

Stops servers: SIGTERM to the process group, then SIGKILL after the grace.`,
  restart: `Usage: xy restart <name…> | --all [--wait]

Stops (if running) and starts servers, clearing their backoff and retry window.`,
  reload: `Usage: xy reload

Re-reads the config dir: starts added servers, stops removed ones, restarts
changed ones and leaves the rest untouched. A file that became invalid leaves
its server running as it was; its errors are printed and the exit code is 3.
SIGHUP to the daemon does the same.`,
  logs: `Usage: xy logs <name> [--tail N] [-f|--follow] [--stdout|--stderr] [--timestamps]

Prints the server's recent output (the last N lines with --tail; from the log
files when memory holds fewer) and exits; -f then streams new lines until
Ctrl-C.`,
  config: `Usage: xy config check

Validates every <name>.kdl in the config dir and prints every error at once.
Exits 3 when any file is invalid.`,
};

/** Parses `argv` (without the program name). */
export function parseArgv(argv: readonly string[]): Parsed {
  const [first, ...rest] = argv;
  if (first === undefined || first === "help") {
    return { command: { kind: "help", ...(rest[0] ? { topic: rest[0] } : {}) }, paths: {} };
  }
  if (first === "-h" || first === "--help") return { command: { kind: "help" }, paths: {} };
  if (first === "-V" || first === "--version" || first === "version") {
    return { command: { kind: "version" }, paths: {} };
  }
  const cmd = first;
  switch (cmd) {
    case "daemon": {
      const { values, positionals } = parse(rest, { background: { type: "boolean" } }, cmd);
      if (values.help) return help(cmd);
      const action = positionals[0] ?? "run";
      if (!["run", "start", "stop", "status"].includes(action) || positionals.length > 1) {
        throw new UsageError(
          `daemon: unknown action "${positionals.join(" ")}" (expected start, stop or status)`,
        );
      }
      return {
        command: {
          kind: "daemon",
          action: action as "run" | "start" | "stop" | "status",
          background: values.background === true,
        },
        paths: pathsOf(values),
      };
    }
    case "list": {
      const { values, positionals } = parse(rest, { json: { type: "boolean" } }, cmd);
      if (values.help) return help(cmd);
      noPositionals(cmd, positionals);
      return { command: { kind: "list", json: values.json === true }, paths: pathsOf(values) };
    }
    case "status": {
      const { values, positionals } = parse(rest, { json: { type: "boolean" } }, cmd);
      if (values.help) return help(cmd);
      if (positionals.length !== 1) throw new UsageError(`status takes one server name`);
      return {
        command: { kind: "status", name: checkName(positionals[0]!), json: values.json === true },
        paths: pathsOf(values),
      };
    }
    case "start":
    case "stop":
    case "restart": {
      const extra = cmd === "stop" ? {} : { wait: { type: "boolean" } } as const;
      const { values, positionals } = parse(rest, { all: { type: "boolean" }, ...extra }, cmd);
      if (values.help) return help(cmd);
      const all = values.all === true;
      if (all && positionals.length) {
        throw new UsageError(`${cmd}: give server names or --all, not both`);
      }
      if (!all && !positionals.length) throw new UsageError(`${cmd}: give server names or --all`);
      return {
        command: { kind: cmd, names: positionals.map(checkName), all, wait: values.wait === true },
        paths: pathsOf(values),
      };
    }
    case "reload": {
      const { values, positionals } = parse(rest, {}, cmd);
      if (values.help) return help(cmd);
      noPositionals(cmd, positionals);
      return { command: { kind: "reload" }, paths: pathsOf(values) };
    }
    case "logs": {
      const { values, positionals } = parse(rest, {
        tail: { type: "string", short: "n" },
        follow: { type: "boolean", short: "f" },
        stdout: { type: "boolean" },
        stderr: { type: "boolean" },
        timestamps: { type: "boolean", short: "t" },
      }, cmd);
      if (values.help) return help(cmd);
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
      const stream = values.stdout ? "stdout" : values.stderr ? "stderr" : undefined;
      return {
        command: {
          kind: "logs",
          name: checkName(positionals[0]!),
          ...(tail === undefined ? {} : { tail }),
          follow: values.follow === true,
          ...(stream ? { stream } : {}),
          timestamps: values.timestamps === true,
        },
        paths: pathsOf(values),
      };
    }
    case "config": {
      const { values, positionals } = parse(rest, {}, cmd);
      if (values.help) return help(cmd);
      if (positionals.length !== 1 || positionals[0] !== "check") {
        throw new UsageError(`config: unknown action "${positionals.join(" ")}" (expected check)`);
      }
      return { command: { kind: "config_check" }, paths: pathsOf(values) };
    }
    default:
      throw new UsageError(`unknown command "${cmd}" (see xy --help)`);
  }
}

function help(topic: string): Parsed {
  return { command: { kind: "help", topic }, paths: {} };
}

type Options = Record<string, { type: "boolean" | "string"; short?: string }>;

function parse(args: string[], options: Options, cmd: string) {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...PATH_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (e) {
    const msg = e instanceof Error ? e.message.replace(/\. To specify.*$/s, "") : String(e);
    throw new UsageError(`${cmd}: ${msg.charAt(0).toLowerCase()}${msg.slice(1)}`);
  }
}

function pathsOf(values: Record<string, string | boolean | undefined>): PathOverrides {
  const s = (k: string) => (typeof values[k] === "string" ? values[k] as string : undefined);
  return { configDir: s("config-dir"), stateDir: s("state-dir"), socket: s("socket") };
}

function noPositionals(cmd: string, positionals: string[]) {
  if (positionals.length) throw new UsageError(`${cmd}: unexpected argument "${positionals[0]}"`);
}

function checkName(name: string): string {
  if (!isValidName(name)) {
    throw new UsageError(`bad server name "${name}": names match [a-z0-9_-]+`);
  }
  return name;
}
