/** `xy daemon [start|stop|status]`: the daemon in the foreground, or controlled from outside. */
import { formatDuration } from "../config/units.ts";
import type { Paths } from "../daemon/paths.ts";
import { DaemonUnreachableError } from "../rpc/errors.ts";
import { ExitCode } from "../protocol/failures.ts";
import { UsageError } from "./usage_error.ts";
import { pollUntil } from "../deadline.ts";
import { connect, daemonGone, handshake, startInBackground } from "./connect.ts";
import type { Io } from "./io.ts";

/** What `xy daemon` was asked to do. */
export type DaemonAction = "run" | "start" | "stop" | "status";

/** How long `xy daemon stop` waits for the daemon to be gone. */
const STOP_TIMEOUT_MS = 120_000;

/** How the supervisors are hosted: one Web Worker each, or on the daemon's thread. */
export type Isolation = "worker" | "inline";

/** The isolation asked for: the flag, else `XY_ISOLATION`, else `worker`. */
export function isolationOf(
  flag: Isolation | undefined,
  env: (n: string) => string | undefined,
): Isolation {
  const value = flag ?? env("XY_ISOLATION") ?? "worker";
  if (value !== "worker" && value !== "inline") {
    throw new UsageError(`XY_ISOLATION must be worker or inline, found "${value}"`);
  }
  return value;
}

/** Runs one `xy daemon` action; returns the exit code. */
export async function daemon(
  cmd: {
    readonly action: DaemonAction;
    readonly background: boolean;
    readonly isolation?: Isolation;
  },
  ctx: { readonly paths: Paths; readonly io: Io },
): Promise<number> {
  const { paths, io } = ctx;
  switch (cmd.action) {
    case "run": {
      const mode = isolationOf(cmd.isolation, io.env);
      // Loaded on demand, so client commands do not pay for the daemon's code.
      const { runDaemon } = await import("../daemon/daemon.ts");
      return await runDaemon({ paths, logToFile: cmd.background, mode });
    }
    case "start": {
      try {
        const { client, info } = await connect(paths);
        await client.close();
        io.out(`already running: pid ${info.pid}, socket ${info.socket}\n`);
        return ExitCode.Ok;
      } catch (e) {
        // None answers; one may be on its way up: the start below waits for it.
        if (!(e instanceof DaemonUnreachableError)) throw e;
      }
      let started;
      try {
        started = await startInBackground(paths, { isolation: isolationOf(cmd.isolation, io.env) });
      } catch (e) {
        if (!(e instanceof DaemonUnreachableError)) throw e;
        io.err(`xy: ${e.message}\n`);
        return ExitCode.Error;
      }
      await started.client.close();
      io.out(`started: pid ${started.info.pid}, socket ${paths.socket}, log ${paths.daemonLog}\n`);
      return ExitCode.Ok;
    }
    case "stop": {
      // No protocol check: `shutdown` is in every version, and stopping an old daemon is the fix.
      const live = await reach(paths, handshake);
      if (live.kind === "gone") {
        io.out("not running\n");
        return ExitCode.Ok;
      }
      if (live.kind === "silent") return silent(io, live.why);
      const { client, info } = live;
      await client.call("shutdown").catch(() => {});
      await client.close();
      if (!(await pollUntil(() => daemonGone(paths), { timeoutMs: STOP_TIMEOUT_MS }))) {
        io.err(`xy: daemon pid ${info.pid} is still running\n`);
        return ExitCode.Error;
      }
      io.out(`stopped: pid ${info.pid}\n`);
      return ExitCode.Ok;
    }
    case "status": {
      const live = await reach(paths, connect);
      if (live.kind === "up") {
        await live.client.close();
        const { info } = live;
        const up = formatDuration(Date.now() - Date.parse(info.started_at));
        io.out(
          `running: pid ${info.pid}, up ${up}, xy ${info.version}, socket ${info.socket}, ` +
            `isolation ${info.isolation}\n`,
        );
        return ExitCode.Ok;
      }
      if (live.kind === "silent") {
        silent(io, live.why);
        return ExitCode.Unreachable;
      }
      const stale: string[] = [];
      if (await exists(paths.socket)) stale.push(`stale socket ${paths.socket}`);
      if (await exists(paths.pidFile)) stale.push(`stale pidfile ${paths.pidFile}`);
      io.out(`stopped${stale.length ? ` (${stale.join(", ")})` : ""}\n`);
      return ExitCode.Unreachable;
    }
  }
}

type Reached =
  | { readonly kind: "up" } & Awaited<ReturnType<typeof handshake>>
  | { readonly kind: "gone" }
  | { readonly kind: "silent"; readonly why: string };

/**
 * Tries to reach the daemon. No answer is either no daemon (the lock is free)
 * or one that holds the lock and does not answer: the two are told apart.
 */
async function reach(paths: Paths, how: typeof handshake): Promise<Reached> {
  try {
    return { kind: "up", ...(await how(paths)) };
  } catch (e) {
    if (!(e instanceof DaemonUnreachableError)) throw e;
    if (await daemonGone(paths)) return { kind: "gone" };
    const pid = (await Deno.readTextFile(paths.pidFile).catch(() => "")).trim();
    return {
      kind: "silent",
      why: `${e.message}, yet a daemon${pid ? ` (pid ${pid}, per ${paths.pidFile})` : ""} ` +
        `holds ${paths.lockFile}`,
    };
  }
}

function silent(io: Io, why: string): number {
  io.err(`xy: ${why}\n`);
  return ExitCode.Error;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
