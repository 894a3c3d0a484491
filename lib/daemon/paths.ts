/**
 * Where xy keeps its files (docs/ARCHITECTURE.md, "Files on disk"). Resolution
 * is pure; {@link ensureDirs} does the I/O.
 */

/** Every path the daemon and CLI use. */
export interface Paths {
  readonly configDir: string;
  readonly stateDir: string;
  readonly logDir: string;
  /** Records of running children, for crash recovery. */
  readonly pidDir: string;
  readonly socket: string;
  readonly lockFile: string;
  readonly pidFile: string;
  readonly daemonLog: string;
}

/** Flags that override the environment. */
export interface PathOverrides {
  readonly configDir?: string | undefined;
  readonly stateDir?: string | undefined;
  readonly socket?: string | undefined;
}

/** The longest socket path the platform takes (sun_path minus its NUL). */
export function socketPathLimit(os: string): number {
  return os === "darwin" ? 103 : 107;
}

/** Resolves every path from flags, then `XY_*`, then XDG variables, then `$HOME`. */
export function resolvePaths(
  flags: PathOverrides,
  env: (name: string) => string | undefined,
): Paths {
  // Without HOME the paths hang off "/"; a trailing slash must not double.
  const home = trimSlash(env("HOME") ?? "").replace(/\/$/, "");
  const nonEmpty = (v: string | undefined) => (v && v.length > 0 ? v : undefined);
  const configHome = nonEmpty(env("XDG_CONFIG_HOME")) ?? `${home}/.config`;
  const stateHome = nonEmpty(env("XDG_STATE_HOME")) ?? `${home}/.local/state`;
  const configDir = abs(
    flags.configDir ?? nonEmpty(env("XY_CONFIG_DIR")) ?? `${configHome}/xy/servers`,
    env,
  );
  const stateDir = abs(flags.stateDir ?? nonEmpty(env("XY_STATE_DIR")) ?? `${stateHome}/xy`, env);
  const runtime = nonEmpty(env("XDG_RUNTIME_DIR"));
  const socket = abs(
    flags.socket ?? nonEmpty(env("XY_SOCKET")) ??
      (runtime ? `${runtime}/xy/xy.sock` : `${stateDir}/xy.sock`),
    env,
  );
  return {
    configDir,
    stateDir,
    logDir: `${stateDir}/logs`,
    pidDir: `${stateDir}/pids`,
    socket,
    lockFile: `${socket}.lock`,
    pidFile: `${stateDir}/xy.pid`,
    daemonLog: `${stateDir}/daemon.log`,
  };
}

/** Makes a relative path absolute against `$PWD`, so a daemon in another directory agrees. */
function abs(path: string, env: (name: string) => string | undefined): string {
  if (path.startsWith("/")) return trimSlash(path);
  const cwd = env("PWD") ?? "/";
  return trimSlash(`${cwd}/${path}`.replace(/\/\.\//g, "/"));
}

function trimSlash(p: string): string {
  return p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
}

/** The directory part of a path. */
export function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/** A socket path the platform cannot bind. */
export class SocketPathError extends Error {
  override readonly name = "SocketPathError";
}

/** Throws {@link SocketPathError} when `path` is too long for a Unix socket here. */
export function checkSocketPath(path: string, os: string = Deno.build.os): void {
  const bytes = new TextEncoder().encode(path).length;
  const limit = socketPathLimit(os);
  if (bytes > limit) {
    throw new SocketPathError(
      `socket path is ${bytes} bytes, longer than this platform's limit of ${limit}: ${path} ` +
        `(set XY_SOCKET or --socket to a shorter path)`,
    );
  }
}

/**
 * Creates every directory the daemon uses. Directories it creates are 0700;
 * one that already exists is tightened to 0700 only when it is xy's own (the
 * state and log dirs, or a socket dir named `xy`), never a shared one like /tmp.
 */
export async function ensureDirs(paths: Paths): Promise<void> {
  const own = [paths.stateDir, paths.logDir, paths.pidDir, paths.configDir];
  const socketDir = dirname(paths.socket);
  for (const dir of [...own, socketDir]) {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  }
  const tighten = [paths.stateDir, paths.logDir, paths.pidDir];
  if (socketDir === paths.stateDir || socketDir.endsWith("/xy")) tighten.push(socketDir);
  for (const dir of tighten) {
    const info = await Deno.stat(dir);
    if (info.mode !== null && (info.mode & 0o077) !== 0) await Deno.chmod(dir, 0o700);
  }
  const problem = socketDirProblem(socketDir, await Deno.stat(socketDir), Deno.uid());
  if (problem) throw new Error(problem);
}

/**
 * Why `dir` may not hold the control socket, or undefined: whoever can write
 * to the directory can replace the socket, so it must be the user's and
 * closed to others.
 */
export function socketDirProblem(
  dir: string,
  info: { uid: number | null; mode: number | null },
  uid: number | null,
): string | undefined {
  if (uid !== null && info.uid !== null && info.uid !== uid) {
    return `socket directory ${dir} belongs to another user (uid ${info.uid}); ` +
      `choose a directory of your own (set XY_SOCKET or --socket)`;
  }
  if (info.mode !== null && (info.mode & 0o022) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
    return `socket directory ${dir} is writable by others (mode ${mode}); ` +
      `choose a private directory (set XY_SOCKET or --socket) or run chmod go-w ${dir}`;
  }
  return undefined;
}
