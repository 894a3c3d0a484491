/**
 * The daemon: takes the single-instance lock, binds the socket, reaps what a
 * killed predecessor left, loads the configs, starts the autostart servers and
 * serves RPC until told to stop (docs/ARCHITECTURE.md, "The daemon").
 */
import { connectDaemon, type DaemonClient } from "./client.ts";
import { sleep, timers } from "../timers.ts";
import { errorMessage } from "../error_message.ts";
import { deadline, pollUntil } from "../deadline.ts";
import { RpcServer } from "../rpc/server.ts";
import { type DaemonInfo, PROTOCOL_VERSION } from "../protocol/types.ts";
import type { HostMode } from "../supervisor/hosting/host.ts";
import { VERSION } from "../version.ts";
import { Fleet } from "./fleet.ts";
import { bridgeSecrets } from "./secrets.ts";
import { UsageSampler } from "./usage_sampler.ts";
import { tryLockFile } from "./lock.ts";
import { createLogger, daemonLogFile, type Logger } from "./log.ts";
import { createHandler } from "./methods.ts";
import { RUN_MARK, SERVER_MARK } from "../process/markers.ts";
import { reapRecorded } from "../process/reap.ts";
import { newRunId } from "../process/records.ts";
import { Sweeper } from "../process/sweeper.ts";
import { checkSocketPath, ensureDirs, type Paths } from "./paths.ts";
import { Registry } from "./registry.ts";
import { Subscriptions } from "./subscriptions.ts";

/** Another daemon holds the lock. */
export class DaemonRunningError extends Error {
  override readonly name = "DaemonRunningError";
}

/** Options of {@link runDaemon}. */
export interface DaemonOptions {
  readonly paths: Paths;
  /** Write the daemon's log to `<state>/daemon.log` instead of stderr. */
  readonly logToFile?: boolean;
  /** `inline` runs supervisors on the daemon's thread instead of one Worker each. */
  readonly mode?: HostMode;
}

/** Runs the daemon until shutdown; resolves with the exit code. */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const { paths } = opts;
  const startedBy = Deno.ppid;
  // A daemon run from inside a server (`xy daemon` in its terminal) carries that server's marks;
  // its own children get their own, and it must not pass those on to anything else it starts.
  for (const mark of [SERVER_MARK, RUN_MARK]) Deno.env.delete(mark);
  // In the background nobody sees stderr: open the log first, so even a
  // failure to start is written where `xy daemon start` will look for it.
  let logFile: ReturnType<typeof daemonLogFile> | null = null;
  if (opts.logToFile) {
    await Deno.mkdir(paths.stateDir, { recursive: true, mode: 0o700 });
    logFile = daemonLogFile(paths.daemonLog);
  }
  const log: Logger = createLogger(logFile ?? Deno.stderr);
  let lock: Deno.FsFile;
  let listener: Deno.Listener;
  try {
    lock = await acquire(paths);
    try {
      listener = await bind(paths.socket);
    } catch (e) {
      lock.close();
      throw e;
    }
  } catch (e) {
    if (logFile) {
      log("error", "daemon cannot start", { error: errorMessage(e) });
      logFile.close();
    }
    throw e;
  }
  const startedAt = new Date();
  Deno.writeTextFileSync(paths.pidFile, `${Deno.pid}\n`, { mode: 0o600 });

  const subscriptions = new Subscriptions();
  // This daemon's spawns are recorded under its own instance id.
  const records = { dir: paths.pidDir, daemon: newRunId() };
  const sweeper = new Sweeper({ ...records, log });
  const registry = new Registry({
    logDir: paths.logDir,
    records,
    onEnded: (record) => sweeper.ended(record),
    mode: opts.mode ?? "worker",
    log,
    onLogs: (name, batch) => subscriptions.deliver(name, batch),
    bridgeSecrets: (config) => bridgeSecrets(paths.stateDir, config),
  });
  registry.watch({ added: (host) => subscriptions.attach(host) });
  const fleet = new Fleet(registry, {
    configDir: paths.configDir,
    log,
    onRemoved: (name) => subscriptions.end(name, "the server was removed from the config dir"),
  });
  const ready = Promise.withResolvers<void>();
  const done = Promise.withResolvers<void>();
  let stopping: Promise<void> | null = null;
  const shutdown = (why: string) => {
    stopping ??= (async () => {
      log("info", "shutting down", { reason: why });
      await fleet.shutdown();
      // What left its server's process group goes too: nothing the daemon started outlives it.
      await sweeper.finish();
      await server.closeConnections();
      // Remove the socket ourselves: close() unlinks it asynchronously, and we may exit first.
      await Deno.remove(paths.socket).catch(() => {});
      try {
        listener.close();
      } catch {
        // Already closed.
      }
      await Deno.remove(paths.pidFile).catch(() => {});
      for (const [sig, fn] of signals) Deno.removeSignalListener(sig, fn);
      log("info", "stopped");
      done.resolve();
    })();
    return stopping;
  };

  const info = (): DaemonInfo => ({
    version: VERSION,
    protocol_version: PROTOCOL_VERSION,
    pid: Deno.pid,
    started_at: startedAt.toISOString(),
    socket: paths.socket,
    config_dir: paths.configDir,
    state_dir: paths.stateDir,
    isolation: opts.mode ?? "worker",
  });
  const server = new RpcServer(
    listener,
    createHandler({
      fleet,
      subscriptions,
      ready: ready.promise,
      info,
      token: (name) => bridgeSecrets(paths.stateDir, registry.get(name).config)?.token ?? null,
      requestShutdown: () => timers.set(() => shutdown("rpc shutdown"), 0),
      usage: new UsageSampler(),
    }),
    { log },
  );

  const signals: [Deno.Signal, () => void][] = [
    ["SIGTERM", () => shutdown("SIGTERM")],
    ["SIGINT", () => shutdown("SIGINT")],
    ["SIGHUP", () => {
      log("info", "SIGHUP received: reloading");
      fleet.reload().catch((e) => log("error", "reload failed", { error: errorMessage(e) }));
    }],
  ];
  for (const [sig, fn] of signals) Deno.addSignalListener(sig, fn);

  const serving = server.serve();
  log("info", "daemon started", {
    pid: Deno.pid,
    version: VERSION,
    socket: paths.socket,
    config_dir: paths.configDir,
    isolation: opts.mode ?? "worker",
  });

  // A previous daemon that was killed left its children running: they are
  // stopped before anything starts, so none holds a port or runs twice. The
  // daemon answers list, status and daemon_info meanwhile (its servers not
  // started yet); what starts or stops servers waits for the boot. The process
  // that started this daemon (a CLI run inside a server) may carry a mark: it
  // is spared, as the daemon itself is.
  const reap = () =>
    reapRecorded(paths.pidDir, { log, spare: [startedBy] }).catch((e) =>
      log("error", "the leftovers of an earlier daemon could not be reaped", {
        error: errorMessage(e),
      })
    );
  await fleet.boot(reap, () => ready.resolve())
    .catch((e) => log("error", "boot failed", { error: errorMessage(e) }));

  await done.promise;
  await serving;
  // The listener unlinks its path asynchronously when it closes; let that happen
  // while we still hold the lock, so it can never remove a successor's socket.
  await sleep(50);
  lock.close();
  logFile?.close();
  return 0;
}

/**
 * Binds the socket. We hold the lock, so a socket at the path is stale by
 * definition and is replaced; anything else there is the user's and is left
 * alone. The umask keeps the socket private from the moment it exists.
 */
async function bind(path: string): Promise<Deno.Listener> {
  const info = await Deno.lstat(path).catch(() => null);
  if (info && !info.isSocket) {
    throw new Error(
      `refusing to replace ${path}: it is not a socket; remove it or choose another path`,
    );
  }
  if (info) await Deno.remove(path);
  const umask = Deno.umask(0o077);
  let listener: Deno.Listener;
  try {
    listener = Deno.listen({ transport: "unix", path });
  } finally {
    Deno.umask(umask);
  }
  await Deno.chmod(path, 0o600);
  return listener;
}

/** Checks the paths and takes the single-instance lock, or names the daemon that holds it. */
async function acquire(paths: Paths): Promise<Deno.FsFile> {
  checkSocketPath(paths.socket);
  await ensureDirs(paths);
  const lock = await tryLockFile(paths.lockFile);
  if (lock) return lock;
  const pid = await livePid(paths.socket);
  throw new DaemonRunningError(
    `a daemon is already running${pid ? ` (pid ${pid})` : ""} on ${paths.socket}`,
  );
}

/**
 * Asks the daemon on `socket` for its pid. The lock holder may still be
 * binding its socket (twenty daemons started at once), so it is asked again
 * for a few seconds; undefined when it never answers.
 */
async function livePid(socket: string): Promise<number | undefined> {
  return await pollUntil(async () => {
    let client: DaemonClient | undefined;
    try {
      client = await connectDaemon(socket);
      const info = await deadline(client.call("daemon_info"), 1000, {
        onTimeout: () => new Error("timeout"),
      });
      return info.pid;
    } catch {
      return undefined;
    } finally {
      await client?.close();
    }
  }, { timeoutMs: 3_000, firstDelayMs: 20 });
}
