/** The CLI: parses argv, talks to the daemon, prints, and returns the exit code. */
import { loadConfigDir } from "../config/load.ts";
import {
  DaemonUnreachableError,
  ExitCode,
  exitCodeForRpc,
  RpcError,
  UsageError,
} from "../errors.ts";
import { DaemonRunningError, runDaemon } from "../daemon/daemon.ts";
import { type Paths, resolvePaths, SocketPathError } from "../daemon/paths.ts";
import type { RpcClient } from "../rpc/client.ts";
import type { ServerSummary, StatusDetail, WireInvalid } from "../rpc/types.ts";
import { formatDuration } from "../config/units.ts";
import { VERSION } from "../version.ts";
import { type Command, HELP, parseArgv } from "./args.ts";
import { connect, connectOrStart, daemonGone, startInBackground } from "./connect.ts";
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
    if (e instanceof DaemonRunningError || e instanceof SocketPathError) {
      return fail(ExitCode.Error, e.message);
    }
    if (e instanceof Deno.errors.PermissionDenied) return fail(ExitCode.Error, e.message);
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

/** `xy logs`: the snapshot, then (with -f) live lines until Ctrl-C or the daemon goes away. */
async function logs(
  client: RpcClient,
  cmd: Extract<Command, { kind: "logs" }>,
  io: Io,
): Promise<number> {
  let buffer: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (buffer.length) io.out(buffer.join(""));
    buffer = [];
  };
  let ended!: () => void;
  const end = new Promise<void>((r) => ended = r);
  // Set once the response arrives; until then every notification is ours (one subscription per connection).
  const sub: { id?: string } = {};
  client.onNotification((method, params) => {
    const p = params as {
      subscription_id: string;
      line: string;
      ts_unix_ms: number;
      count: number;
    };
    if (sub.id !== undefined && p.subscription_id !== sub.id) return;
    if (method === "log") {
      buffer.push(
        cmd.timestamps ? `${new Date(p.ts_unix_ms).toISOString()} ${p.line}\n` : `${p.line}\n`,
      );
      if (buffer.length >= 1024) flush();
      else timer ??= setTimeout(flush, 10);
    } else if (method === "log_dropped") {
      flush();
      io.err(`xy: ${p.count} lines dropped: this terminal did not keep up\n`);
    } else if (method === "log_end") {
      ended();
    }
  });
  const result = await client.call<{ subscription_id: string }>("logs", {
    name: cmd.name,
    follow: cmd.follow,
    ...(cmd.tail === undefined ? {} : { tail: cmd.tail }),
    ...(cmd.stream ? { stream: cmd.stream } : {}),
  });
  sub.id = result.subscription_id;
  if (!cmd.follow) {
    await Promise.race([end, client.closed]);
    flush();
    return ExitCode.Ok;
  }
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    client.close();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    await client.closed;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  flush();
  if (interrupted) return ExitCode.Ok;
  io.err("xy: the daemon went away\n");
  return ExitCode.Unreachable;
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

async function daemon(
  action: "run" | "start" | "stop" | "status",
  background: boolean,
  paths: Paths,
  io: Io,
) {
  switch (action) {
    case "run":
      return await runDaemon({ paths, logToFile: background });
    case "start": {
      try {
        const { client, info } = await connect(paths);
        await client.close();
        io.out(`already running: pid ${info.pid}, socket ${info.socket}\n`);
        return ExitCode.Ok;
      } catch (e) {
        if (!(e instanceof DaemonUnreachableError)) throw e;
      }
      let started;
      try {
        started = await startInBackground(paths);
      } catch (e) {
        if (e instanceof DaemonUnreachableError) {
          io.err(`xy: ${e.message}\n`);
          return ExitCode.Error;
        }
        throw e;
      }
      await started.client.close();
      io.out(`started: pid ${started.info.pid}, socket ${paths.socket}, log ${paths.daemonLog}\n`);
      return ExitCode.Ok;
    }
    case "stop": {
      let conn;
      try {
        conn = await connect(paths);
      } catch (e) {
        if (!(e instanceof DaemonUnreachableError)) throw e;
        io.out("not running\n");
        return ExitCode.Ok;
      }
      await conn.client.call("shutdown").catch(() => {});
      await conn.client.closed;
      await conn.client.close();
      const deadline = Date.now() + 120_000;
      while (!(await daemonGone(paths))) {
        if (Date.now() > deadline) {
          io.err(`xy: daemon pid ${conn.info.pid} is still running\n`);
          return ExitCode.Error;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      io.out(`stopped: pid ${conn.info.pid}\n`);
      return ExitCode.Ok;
    }
    case "status": {
      try {
        const { client, info } = await connect(paths);
        await client.close();
        const up = formatDuration(Date.now() - Date.parse(info.started_at));
        io.out(`running: pid ${info.pid}, up ${up}, xy ${info.version}, socket ${info.socket}\n`);
        return ExitCode.Ok;
      } catch (e) {
        if (!(e instanceof DaemonUnreachableError)) throw e;
      }
      const stale: string[] = [];
      if (await exists(paths.socket)) stale.push(`stale socket ${paths.socket}`);
      if (await exists(paths.pidFile)) stale.push(`stale pidfile ${paths.pidFile}`);
      io.out(`stopped${stale.length ? ` (${stale.join(", ")})` : ""}\n`);
      return ExitCode.Unreachable;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}
