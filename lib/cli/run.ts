/** The CLI: parses argv, talks to the daemon, prints, and returns the exit code. */
import {
  DaemonUnreachableError,
  ExitCode,
  exitCodeForRpc,
  RpcError,
  UsageError,
} from "../errors.ts";
import { type Paths, resolvePaths } from "../daemon/paths.ts";
import type { RpcClient } from "../rpc/client.ts";
import type { ServerSummary, StatusDetail, WireInvalid } from "../rpc/types.ts";
import { VERSION } from "../version.ts";
import { type Command, HELP, parseArgv } from "./args.ts";
import { connectOrStart } from "./connect.ts";
import { logs } from "./logs.ts";
import { daemon } from "./daemon_control.ts";
import { formatList, formatStatus, type Style } from "./format.ts";

/** Where the CLI writes, and what it knows of its environment. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  env(name: string): string | undefined;
  readonly isTerminal: boolean;
}

/** The real terminal. */
export const denoIo: Io = {
  out: (t) => writeAll(Deno.stdout, t),
  err: (t) => writeAll(Deno.stderr, t),
  env: (n) => Deno.env.get(n),
  isTerminal: Deno.stdout.isTerminal(),
};

function writeAll(w: { writeSync(p: Uint8Array): number }, text: string) {
  const bytes = new TextEncoder().encode(text);
  let off = 0;
  while (off < bytes.length) off += w.writeSync(bytes.subarray(off));
}

/** Runs one command line; never throws. */
export async function run(argv: readonly string[], io: Io = denoIo): Promise<number> {
  const fail = (code: number, message: string) => {
    io.err(`xy: ${message}\n`);
    return code;
  };
  try {
    const parsed = parseArgv(argv);
    const paths = resolvePaths(parsed.paths, io.env);
    return await dispatch(parsed.command, paths, io);
  } catch (e) {
    if (e instanceof UsageError) return fail(ExitCode.Usage, e.message);
    if (e instanceof DaemonUnreachableError) return fail(ExitCode.Unreachable, e.message);
    if (e instanceof RpcError) return fail(exitCodeForRpc(e.code), e.message);
    // Everything else (another daemon running, a socket path too long, …) is an operational error.
    return fail(ExitCode.Error, e instanceof Error ? e.message : String(e));
  }
}

async function dispatch(cmd: Command, paths: Paths, io: Io): Promise<number> {
  const style: Style = { color: io.isTerminal && io.env("NO_COLOR") === undefined };
  switch (cmd.kind) {
    case "help":
      io.out(`${HELP[cmd.topic ?? ""] ?? HELP[""]}\n`);
      return ExitCode.Ok;
    case "version":
      io.out(`xy ${VERSION}\n`);
      return ExitCode.Ok;
    case "config_check":
      return await configCheck(paths, io);
    case "daemon":
      return await daemon(cmd.action, cmd.background, paths, io);
    default:
      break;
  }
  const { client } = await connectOrStart(paths, { autostart: io.env("XY_NO_AUTOSTART") !== "1" });
  try {
    switch (cmd.kind) {
      case "list": {
        const rows = await client.call<ServerSummary[]>("list");
        io.out(cmd.json ? JSON.stringify(rows, null, 2) + "\n" : formatList(rows, style));
        return ExitCode.Ok;
      }
      case "status": {
        const s = await client.call<StatusDetail>("status", { name: cmd.name });
        io.out(cmd.json ? JSON.stringify(s, null, 2) + "\n" : formatStatus(s, style, Date.now()));
        return ExitCode.Ok;
      }
      case "start":
      case "stop":
      case "restart":
        return await control(client, cmd, io);
      case "logs":
        return await logs(client, cmd, io);
      case "reload": {
        const r = await client.call<Record<string, unknown>>("reload");
        for (const key of ["added", "removed", "changed", "unchanged"]) {
          const names = r[key] as string[];
          io.out(`${key}: ${names.length ? names.join(", ") : "-"}\n`);
        }
        const invalid = r.invalid as WireInvalid[];
        for (const f of invalid) io.err(`${f.error}\n`);
        if (invalid.length) {
          io.err(
            `xy: ${invalid.length} config file${
              invalid.length === 1 ? "" : "s"
            } invalid; their servers were left as they were\n`,
          );
          return ExitCode.ConfigInvalid;
        }
        return ExitCode.Ok;
      }
    }
  } finally {
    await client.close();
  }
}

async function control(
  client: RpcClient,
  cmd: Extract<Command, { kind: "start" | "stop" | "restart" }>,
  io: Io,
): Promise<number> {
  const params = cmd.all ? { all: true } : { names: cmd.names };
  let result: Record<string, string[]>;
  try {
    result = await client.call<Record<string, string[]>>(cmd.kind, params);
  } catch (e) {
    if (e instanceof RpcError && isRecord(e.data) && Array.isArray(e.data.failed)) {
      printLists(e.data as Record<string, string[]>, io);
      for (const f of e.data.failed as { name: string; message: string }[]) {
        io.err(`xy: ${f.name}: ${f.message}\n`);
        await printStderrTail(client, f.name, io);
      }
      return exitCodeForRpc(e.code);
    }
    throw e;
  }
  printLists(result, io);
  if (!cmd.wait || cmd.kind === "stop") return ExitCode.Ok;
  const names = cmd.all
    ? (await client.call<ServerSummary[]>("list")).filter((r) =>
      r.state !== "invalid" && r.state !== "stopped"
    ).map((r) => r.name)
    : cmd.names;
  return await waitUp(client, names, io);
}

const LIST_LABELS: Record<string, string> = {
  started: "started",
  already_running: "already running",
  stopped: "stopped",
  not_running: "not running",
  restarted: "restarted",
};

function printLists(result: Record<string, unknown>, io: Io) {
  for (const [key, label] of Object.entries(LIST_LABELS)) {
    const names = result[key];
    if (Array.isArray(names) && names.length) io.out(`${label}: ${names.join(", ")}\n`);
  }
}

/** `--wait`: until each is running (healthy where it has checks), or exit 1 when one fails. */
async function waitUp(client: RpcClient, names: readonly string[], io: Io): Promise<number> {
  const pending = new Set(names);
  let delay = 20;
  while (pending.size) {
    for (const name of [...pending]) {
      const s = await client.call<StatusDetail>("status", { name });
      const healthy = s.health === undefined || s.health === "healthy" || s.health === "unknown";
      if (s.state === "running" && healthy) {
        pending.delete(name);
      } else if (s.state === "failed" || s.state === "restarting" || s.state === "stopped") {
        io.err(`xy: ${name} did not come up: ${s.last_error ?? s.state}\n`);
        for (const line of s.stderr_tail) io.err(`  ${line}\n`);
        return ExitCode.Error;
      }
    }
    if (pending.size) await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
  io.out(`up: ${names.join(", ")}\n`);
  return ExitCode.Ok;
}

async function printStderrTail(client: RpcClient, name: string, io: Io) {
  try {
    const s = await client.call<StatusDetail>("status", { name });
    for (const line of s.stderr_tail) io.err(`  ${line}\n`);
  } catch {
    // The error line already said what failed.
  }
}

async function configCheck(paths: Paths, io: Io): Promise<number> {
  try {
    if (!(await Deno.stat(paths.configDir)).isDirectory) throw new Error("not a directory");
  } catch {
    io.err(
      `xy: config dir ${paths.configDir} does not exist (the daemon creates it on first run)\n`,
    );
    return ExitCode.Error;
  }
  // Loaded on demand: the KDL parser is not needed by the commands that only talk to the daemon.
  const { loadConfigDir } = await import("../config/load.ts");
  const { configs, invalid } = await loadConfigDir(paths.configDir);
  for (const f of invalid) for (const e of f.errors) io.err(`${e.message}\n`);
  const total = configs.length + invalid.length;
  if (invalid.length) {
    io.err(`xy: ${invalid.length} of ${total} config files invalid\n`);
    return ExitCode.ConfigInvalid;
  }
  io.out(`${total} server${total === 1 ? "" : "s"} OK in ${paths.configDir}\n`);
  return ExitCode.Ok;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}
