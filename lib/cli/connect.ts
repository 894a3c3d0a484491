/**
 * Reaching the daemon from the CLI: connect, check the protocol version, and
 * start a daemon in the background when none answers. Concurrent callers
 * serialise on `<socket>.start` so that twenty first calls start one daemon.
 */
import { connectDaemon, type DaemonClient } from "../daemon/client.ts";
import { lockFile, tryLockFile } from "../daemon/lock.ts";
import { dirname, type Paths } from "../daemon/paths.ts";
import { DaemonUnreachableError, RpcCode, RpcError } from "../rpc/errors.ts";
import { deadline, pollUntil } from "../deadline.ts";
import { RUN_MARK, SERVER_MARK } from "../process/markers.ts";
import { type DaemonInfo, PROTOCOL_VERSION } from "../protocol/types.ts";

/** How long a background start may take before the CLI gives up. */
const START_TIMEOUT_MS = 15_000;

/** How long the daemon may take to answer the handshake. */
const HANDSHAKE_TIMEOUT_MS = 5_000;

/**
 * Connects and asks for `daemon_info`, within {@link HANDSHAKE_TIMEOUT_MS}: a
 * daemon that accepts but does not answer is as unreachable as none.
 */
export async function handshake(paths: Paths): Promise<{ client: DaemonClient; info: DaemonInfo }> {
  const silent = () =>
    new DaemonUnreachableError(
      `the daemon on ${paths.socket} does not answer (within ${HANDSHAKE_TIMEOUT_MS / 1000}s)`,
    );
  const client = await deadline(connectDaemon(paths.socket), HANDSHAKE_TIMEOUT_MS, {
    onTimeout: silent,
    late: (c) => c.close(),
  });
  try {
    const info = await deadline(client.call("daemon_info"), HANDSHAKE_TIMEOUT_MS, {
      onTimeout: silent,
    });
    return { client, info };
  } catch (e) {
    await client.close();
    throw e;
  }
}

/** Connects and checks the daemon speaks this CLI's protocol. */
export async function connect(paths: Paths): Promise<{ client: DaemonClient; info: DaemonInfo }> {
  const { client, info } = await handshake(paths);
  try {
    if (info.protocol_version !== PROTOCOL_VERSION) {
      throw new RpcError(
        RpcCode.InternalError,
        `the running daemon (xy ${info.version}, pid ${info.pid}) speaks protocol ${info.protocol_version}, ` +
          `this xy speaks ${PROTOCOL_VERSION}: restart it with \`xy daemon stop\``,
      );
    }
    return { client, info };
  } catch (e) {
    await client.close();
    throw e;
  }
}

/** The daemon answering on `paths`, or null when none does (none is started for this). */
export async function connectIfRunning(
  paths: Paths,
): Promise<{ client: DaemonClient; info: DaemonInfo } | null> {
  try {
    return await connect(paths);
  } catch (e) {
    if (e instanceof DaemonUnreachableError) return null;
    throw e;
  }
}

/** Connects, starting the daemon in the background first when none answers (unless `autostart` is false). */
export async function connectOrStart(
  paths: Paths,
  opts: { autostart: boolean },
): Promise<{ client: DaemonClient; info: DaemonInfo; started: boolean }> {
  try {
    return { ...(await connect(paths)), started: false };
  } catch (e) {
    if (!(e instanceof DaemonUnreachableError) || !opts.autostart) throw e;
  }
  return { ...(await startInBackground(paths)), started: true };
}

/** Starts a daemon detached from this process and waits until it answers. */
export async function startInBackground(
  paths: Paths,
  opts: { readonly isolation?: "worker" | "inline" } = {},
): Promise<{ client: DaemonClient; info: DaemonInfo }> {
  await Deno.mkdir(dirname(paths.socket), { recursive: true, mode: 0o700 });
  await Deno.mkdir(paths.stateDir, { recursive: true, mode: 0o700 });
  const gate = await lockFile(`${paths.socket}.start`);
  try {
    try {
      return await connect(paths);
    } catch (e) {
      if (!(e instanceof DaemonUnreachableError)) throw e;
    }
    const logStart = await fileSize(paths.daemonLog);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        ...daemonArgv(),
        "--background",
        ...(opts.isolation ? ["--isolation", opts.isolation] : []),
        ...pathFlags(paths),
      ],
      // The daemon outlives this shell: not its directory, not its variables (README, "Environment").
      cwd: "/",
      clearEnv: true,
      env: daemonEnv(Deno.env.toObject()),
      stdin: "null",
      stdout: "null",
      stderr: "null",
      detached: true,
    }).spawn();
    let exited = false;
    child.status.then(() => exited = true);
    child.unref();
    const up = await pollUntil(async () => {
      try {
        return await connect(paths);
      } catch (e) {
        if (!(e instanceof DaemonUnreachableError)) throw e;
      }
      return exited ? "exited" : undefined;
    }, { timeoutMs: START_TIMEOUT_MS, firstDelayMs: 10 });
    if (up && up !== "exited") return up;
    const tail = await linesWrittenSince(paths.daemonLog, logStart, 30);
    throw new DaemonUnreachableError(
      `the daemon did not start${exited ? "" : ` within ${START_TIMEOUT_MS / 1000}s`}` +
        (tail ? `; its log (${paths.daemonLog}) ends:\n${tail}` : ""),
    );
  } finally {
    gate.close();
  }
}

/** True when no daemon holds the lock (and so none is alive). */
export async function daemonGone(paths: Paths): Promise<boolean> {
  try {
    const lock = await tryLockFile(paths.lockFile);
    lock?.close();
    return lock !== null;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return true;
    throw e;
  }
}

/**
 * The variables a daemon started in the background keeps from the first
 * caller: what servers need to run and find their tools (PATH, HOME, the
 * locale, XDG and proxy settings, Deno's and xy's own), not the rest of a
 * shell's state.
 */
export const DAEMON_ENV =
  /^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|TZ|TMPDIR|LC_\w+|XDG_\w+|XY_\w+|DENO_\w+|NPM_CONFIG_\w+|SSL_CERT_(FILE|DIR)|NODE_EXTRA_CA_CERTS|SSH_AUTH_SOCK|(HTTPS?|NO|ALL)_PROXY|(https?|no|all)_proxy)$/;

/**
 * Variables of the caller a daemon never takes: a server's marks (a command
 * run inside a server, such as a control script calling `xy list`, carries
 * them, and a daemon that carried them would find itself among that run's
 * leftovers and stop itself), and the switch that only concerns the caller.
 */
const NOT_FOR_DAEMON = new Set([SERVER_MARK, RUN_MARK, "XY_NO_AUTOSTART"]);

/** The environment of a daemon started in the background, from the caller's. */
export function daemonEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(([k]) => DAEMON_ENV.test(k) && !NOT_FOR_DAEMON.has(k)),
  );
}

/**
 * V8 flags of the daemon (bench/RESULTS.md): V8's memory reducer, which gives
 * back what an idle heap no longer uses, with its two delays at 1 s instead of
 * 30 and 8. A worker then settles at 8.8 MB a few seconds after start-up
 * rather than staying at 11.2 MB for the first half minute, and the young
 * generation that parsing a hundred config files grew (some 11 MB) is given
 * back too. The reducer runs only when the heap is idle: while servers log,
 * the young generation is held to semi-spaces of 2 MB (an inline daemon
 * whose ten servers log steadily: 88 → 75 MB, as fast: bench/RESULTS.md, "What each change bought", 18).
 */
export const DAEMON_V8_FLAGS =
  "--v8-flags=--gc-memory-reducer-start-delay-ms=1000,--memory-reducer-delay-ms=1000,--max-semi-space-size=2";

/**
 * The argv that runs `module`'s `daemon` command: `deno run -A <flags> <module>`,
 * or the compiled binary itself (its V8 flags were given to `deno compile`).
 */
export function daemonArgv(module = Deno.mainModule, exe = Deno.execPath()): string[] {
  return isDeno(exe) ? ["run", "-A", DAEMON_V8_FLAGS, module, "daemon"] : ["daemon"];
}

/** True when `exe` is deno running a module, false for a compiled xy. */
function isDeno(exe: string): boolean {
  const base = exe.slice(exe.lastIndexOf("/") + 1);
  return base === "deno" || base.startsWith("deno.");
}

/**
 * The argv that runs this xy with `args`: `deno run -A <module> …`, or the
 * compiled binary itself (what a client runs for `xy connect`).
 */
export function selfArgv(
  args: readonly string[],
  module = Deno.mainModule,
  exe = Deno.execPath(),
): string[] {
  if (!isDeno(exe)) return [exe, ...args];
  const path = module.startsWith("file:") ? decodeURIComponent(new URL(module).pathname) : module;
  return [exe, "run", "-A", path, ...args];
}

/** The path flags that make a daemon use exactly `paths`. */
export function pathFlags(paths: Paths): string[] {
  return ["--config-dir", paths.configDir, "--state-dir", paths.stateDir, "--socket", paths.socket];
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return 0;
  }
}

/** The last `lines` lines of `path` written after byte `from`. */
export async function linesWrittenSince(
  path: string,
  from: number,
  lines: number,
): Promise<string> {
  try {
    const bytes = await Deno.readFile(path);
    return new TextDecoder().decode(bytes.subarray(from)).trimEnd().split("\n").slice(-lines).join(
      "\n",
    );
  } catch {
    return "";
  }
}
