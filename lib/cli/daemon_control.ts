/** `xy daemon [start|stop|status]`: the daemon in the foreground, or controlled from outside. */
import { formatDuration } from "../config/units.ts";
import type { Paths } from "../daemon/paths.ts";
import { DaemonUnreachableError, ExitCode } from "../errors.ts";
import { pollUntil } from "../poll.ts";
import { connect, daemonGone, startInBackground } from "./connect.ts";
import type { Io } from "./io.ts";

/** What `xy daemon` was asked to do. */
export type DaemonAction = "run" | "start" | "stop" | "status";

/** How long `xy daemon stop` waits for the daemon to be gone. */
const STOP_TIMEOUT_MS = 120_000;

/** Runs one `xy daemon` action; returns the exit code. */
export async function daemon(
  cmd: { readonly action: DaemonAction; readonly background: boolean },
  ctx: { readonly paths: Paths; readonly io: Io },
): Promise<number> {
  const { paths, io } = ctx;
  const background = cmd.background;
  switch (cmd.action) {
    case "run": {
      // Loaded on demand, so client commands do not pay for the daemon's code.
      const { runDaemon } = await import("../daemon/daemon.ts");
      return await runDaemon({ paths, logToFile: background });
    }
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
      if (!(await pollUntil(() => daemonGone(paths), { timeoutMs: STOP_TIMEOUT_MS }))) {
        io.err(`xy: daemon pid ${conn.info.pid} is still running\n`);
        return ExitCode.Error;
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
