/**
 * The daemon: takes the single-instance lock, binds the socket, loads the
 * configs, starts the autostart servers and serves RPC until told to stop.
 */
import { loadConfigDir } from "../config/load.ts";
import { createHandler } from "../rpc/handlers.ts";
import { RpcServer } from "../rpc/server.ts";
import { RpcClient } from "../rpc/client.ts";
import { PROTOCOL_VERSION } from "../rpc/types.ts";
import type { DaemonInfo } from "../rpc/types.ts";
import type { HostMode } from "../supervisor/host.ts";
import { VERSION } from "../version.ts";
import { createLogger, type Logger } from "./log.ts";
import { checkSocketPath, ensureDirs, type Paths } from "./paths.ts";
import { Registry } from "./registry.ts";
import { Subscriptions } from "./subscriptions.ts";
import { planReload } from "./reload_plan.ts";
import { reapOrphans } from "./orphans.ts";
import { tryLockFile } from "./lock.ts";

/** Another daemon holds the lock. */
export class DaemonRunningError extends Error {
  override readonly name = "DaemonRunningError";
}

/** Options of {@link runDaemon}. */
export interface DaemonOptions {
  readonly paths: Paths;
  /** Write the daemon's log to `<state>/daemon.log` instead of stderr. */
  readonly logToFile?: boolean;
  /** `inline` runs supervisors in-process instead of one Worker each. */
  readonly mode?: HostMode;
}

/** Runs the daemon until shutdown; resolves with the exit code. */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const { paths } = opts;
  // In the background nobody sees stderr: open the log first, so even a
  // failure to start is written where `xy daemon start` will look for it.
  let logFile: Deno.FsFile | null = null;
  if (opts.logToFile) {
    await Deno.mkdir(paths.stateDir, { recursive: true, mode: 0o700 });
    logFile = await Deno.open(paths.daemonLog, { create: true, append: true, mode: 0o600 });
  }
  const log: Logger = createLogger(logFile ?? Deno.stderr);
  let lock: Deno.FsFile | null;
  try {
    checkSocketPath(paths.socket);
    await ensureDirs(paths);
    lock = await tryLockFile(paths.lockFile);
    if (!lock) {
      const pid = await livePid(paths.socket);
      throw new DaemonRunningError(
        `a daemon is already running${pid ? ` (pid ${pid})` : ""} on ${paths.socket}`,
      );
    }
  } catch (e) {
    if (logFile) {
      log("error", "daemon cannot start", { error: e instanceof Error ? e.message : String(e) });
      logFile.close();
    }
    throw e;
  }
  const startedAt = new Date();

  // We hold the lock, so whatever is at the socket path is stale by definition.
  await Deno.remove(paths.socket).catch(() => {});
  const listener = Deno.listen({ transport: "unix", path: paths.socket });
  await Deno.chmod(paths.socket, 0o600);
  await Deno.writeTextFile(paths.pidFile, `${Deno.pid}\n`, { mode: 0o600 });

  const subscriptions = new Subscriptions();
  const registry = new Registry({
    logDir: paths.logDir,
    pidDir: paths.pidDir,
    mode: opts.mode ?? "worker",
    log,
    onLogs: (name, lines) => subscriptions.deliver(name, lines),
  });
  let shutdownStarted = false;
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));

  const info = (): DaemonInfo => ({
    version: VERSION,
    protocol_version: PROTOCOL_VERSION,
    pid: Deno.pid,
    started_at: startedAt.toISOString(),
    socket: paths.socket,
    config_dir: paths.configDir,
    state_dir: paths.stateDir,
  });

  const server = new RpcServer(
    listener,
    createHandler({
      registry,
      subscriptions,
      ready,
      info,
      reload: () => reload(),
      requestShutdown: () => setTimeout(() => shutdown("rpc shutdown"), 0),
    }),
    { log: (msg, fields) => log("warn", msg, fields) },
  );

  const signals: [Deno.Signal, () => void][] = [
    ["SIGTERM", () => shutdown("SIGTERM")],
    ["SIGINT", () => shutdown("SIGINT")],
    ["SIGHUP", () => {
      log("info", "SIGHUP received: reloading");
      reload().catch((e) => log("error", "reload failed", { error: String(e) }));
    }],
  ];
  for (const [sig, fn] of signals) Deno.addSignalListener(sig, fn);

  let reloading: Promise<unknown> = Promise.resolve();
  /** Reloads one at a time: a second SIGHUP waits for the first. */
  function reload(): Promise<unknown> {
    const next = reloading.then(() => applyReload(), () => applyReload());
    reloading = next;
    return next;
  }

  async function applyReload() {
    const loaded = await loadConfigDir(paths.configDir);
    const plan = planReload(registry.hosts.map((h) => h.config), loaded);
    registry.setInvalid(loaded.invalid);
    const wasUp = new Set(registry.hosts.filter((h) => h.isUp).map((h) => h.name));
    // Stop what goes away or changes first, so a port can move between servers.
    await Promise.all(
      [...plan.removed, ...plan.changed.map((c) => c.name)].map((n) => registry.remove(n)),
    );
    const toStart = [
      ...plan.added.filter((c) => c.autostart),
      ...plan.changed.filter((c) => wasUp.has(c.name) || c.autostart),
    ];
    for (const c of [...plan.added, ...plan.changed]) registry.add(c);
    await Promise.all(toStart.map(async (c) => {
      try {
        await registry.get(c.name).request({ kind: "start" });
      } catch (e) {
        log("error", "start after reload failed", {
          server: c.name,
          error: e instanceof Error ? e.message : String(e),
        });
      }
    }));
    const result = {
      added: plan.added.map((c) => c.name),
      removed: plan.removed,
      changed: plan.changed.map((c) => c.name),
      unchanged: plan.unchanged,
      invalid: registry.invalid,
    };
    log(result.invalid.length ? "warn" : "info", "reloaded", {
      added: result.added.join(",") || undefined,
      removed: result.removed.join(",") || undefined,
      changed: result.changed.join(",") || undefined,
      invalid: result.invalid.map((i) => i.name).join(",") || undefined,
    });
    return result;
  }

  async function shutdown(why: string) {
    if (shutdownStarted) return;
    shutdownStarted = true;
    log("info", "shutting down", { reason: why });
    await registry.shutdown();
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
    resolveDone();
  }

  const serving = server.serve();
  log("info", "daemon started", {
    pid: Deno.pid,
    version: VERSION,
    socket: paths.socket,
    config_dir: paths.configDir,
  });

  try {
    // A previous daemon that was killed left its children running: stop them
    // before anything starts, so none holds a port or runs twice.
    await reapOrphans(paths.pidDir, log);
    const loaded = await loadConfigDir(paths.configDir);
    registry.setInvalid(loaded.invalid);
    for (const bad of loaded.invalid) {
      for (const e of bad.errors) {
        log("error", "invalid config", { server: bad.name, error: e.message });
      }
    }
    for (const config of loaded.configs) registry.add(config);
  } catch (e) {
    // An unreadable config dir must not leave requests waiting forever: run with what loaded.
    log("error", "boot could not load the configs", {
      error: e instanceof Error ? e.message : String(e),
    });
  } finally {
    markReady();
  }
  const autostart = registry.hosts.filter((h) => h.config.autostart);
  if (!shutdownStarted) {
    await Promise.all(autostart.map(async (h) => {
      try {
        await h.request({ kind: "start" });
      } catch (e) {
        log("error", "autostart failed", {
          server: h.name,
          error: e instanceof Error ? e.message : String(e),
        });
      }
    }));
  }

  await done;
  await serving;
  // The listener unlinks its path asynchronously when it closes; let that happen
  // while we still hold the lock, so it can never remove a successor's socket.
  await new Promise((r) => setTimeout(r, 50));
  lock.close();
  logFile?.close();
  return 0;
}

/** Asks the daemon on `socket` for its pid, within a second. */
async function livePid(socket: string): Promise<number | undefined> {
  let client: RpcClient | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    client = await RpcClient.connect(socket);
    const info = await Promise.race([
      client.call<DaemonInfo>("daemon_info"),
      new Promise<never>((_, reject) =>
        timer = setTimeout(() => reject(new Error("timeout")), 1000)
      ),
    ]);
    return info.pid;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    await client?.close();
  }
}
