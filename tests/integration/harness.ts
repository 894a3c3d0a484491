/**
 * Runs the real daemon (`deno run -A main.ts daemon`) with temp config, state
 * and socket paths, and drives it with the real CLI or a raw RPC client.
 * Everything it starts is stopped on dispose, even when the test failed.
 */
import { connectDaemon, type DaemonClient } from "../../lib/daemon/client.ts";
import { daemonArgv } from "../../lib/cli/connect.ts";
import { readStat, readStatSync } from "../../lib/process/group.ts";
import { pollUntil } from "../../lib/deadline.ts";
import { parseEnviron } from "../../lib/process/markers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
export const MAIN = `${ROOT}main.ts`;
export const FIXTURES = `${ROOT}tests/fixtures`;

/** The output of one CLI run. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Polls `check` until it returns a truthy value, or throws (with the last error seen) after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  let last: unknown;
  const value = await pollUntil(async () => {
    try {
      return (await check()) || undefined;
    } catch (e) {
      last = e;
      return undefined;
    }
  }, { timeoutMs, firstDelayMs: 10 });
  if (value) return value as NonNullable<T>;
  throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${last ? `: ${last}` : ""}`);
}

/** True while `pid` is a live (non-zombie) process. */
export async function alive(pid: number): Promise<boolean> {
  const s = await readStat(pid);
  return s !== undefined && s.state !== "Z" && s.state !== "X";
}

/** Pids of live processes in group `pgid`. */
export async function groupMembers(pgid: number): Promise<number[]> {
  const out: number[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const s = await readStat(Number(e.name));
    if (s && s.pgrp === pgid && s.state !== "Z") out.push(Number(e.name));
  }
  return out;
}

/** A live process of a sandbox, with the marks xy gave it (none for a daemon). */
export interface SandboxProcess {
  readonly pid: number;
  readonly server?: string;
  readonly run?: string;
}

/**
 * Live processes whose environment says they belong to sandbox `dir`: a test
 * counts its own processes only, never those of a user's real xy or of
 * another suite running beside it (servers of the same names included).
 */
export async function sandboxProcesses(dir: string): Promise<SandboxProcess[]> {
  const out: SandboxProcess[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name) || Number(e.name) === Deno.pid) continue;
    const bytes = await Deno.readFile(`/proc/${e.name}/environ`).catch(() => null);
    if (!bytes) continue;
    const env = parseEnviron(bytes);
    if (env.get("XY_TEST_SANDBOX") !== dir || !(await alive(Number(e.name)))) continue;
    const server = env.get("XY_SERVER");
    const run = env.get("XY_RUN");
    out.push({
      pid: Number(e.name),
      ...(server ? { server } : {}),
      ...(run ? { run } : {}),
    });
  }
  return out;
}

/**
 * Ports the tests give their servers are taken from below the kernel's
 * ephemeral range (32768 and up on Linux), so no connection or listener of
 * any process is handed one of them by the kernel meanwhile.
 */
const TEST_PORTS = { from: 20_000, to: 32_000 } as const;
/** Where test suites claim ports, a file each naming the claiming process: shared by every suite. */
const PORT_CLAIMS = `${Deno.env.get("TMPDIR") ?? "/tmp"}/xy-test-ports`;

/**
 * A TCP port on 127.0.0.1 nothing listens on, and that no other test — of
 * this file, another file running in parallel, or another suite on the
 * machine — is given while this process lives: each is claimed by a file in
 * {@link PORT_CLAIMS} that names this process, created only if none is there
 * (a claim whose process is gone is taken over). A port a user's server
 * listens on is skipped.
 */
export function freePort(): number {
  Deno.mkdirSync(PORT_CLAIMS, { recursive: true });
  for (;;) {
    const port = TEST_PORTS.from + Math.floor(Math.random() * (TEST_PORTS.to - TEST_PORTS.from));
    if (!claim(`${PORT_CLAIMS}/${port}`)) continue;
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return port;
    } catch {
      // In use by something that is not a test: the claim stays, and the port is not tried again.
    }
  }
}

/** Creates `file` naming this process, or takes it over from a process that is gone. */
function claim(file: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      Deno.writeTextFileSync(file, `${Deno.pid}\n`, { createNew: true });
      return true;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    let owner: number;
    try {
      owner = Number(Deno.readTextFileSync(file).trim());
    } catch {
      continue; // Taken over and gone meanwhile: try to create it again.
    }
    // Empty: its claimant is writing it now.
    if (!(owner > 1) || readStatSync(owner) !== undefined) return false;
    try {
      Deno.removeSync(file);
    } catch {
      // Another suite took it over first: try to create it again.
    }
  }
  return false;
}

/** A temp dir with `config/`, `state/` and a socket path, and env for the CLI. */
export class Sandbox implements AsyncDisposable {
  readonly config: string;
  readonly state: string;
  readonly socket: string;
  readonly #extra: Set<Deno.ChildProcess> = new Set();
  readonly #daemons: Daemon[] = [];

  /** `home`: the config, state and socket where xy's defaults put them under `<dir>/home`. */
  constructor(readonly dir: string, layout: "sandbox" | "home" = "sandbox") {
    if (layout === "home") {
      this.config = `${dir}/home/.config/xy/servers`;
      this.state = `${dir}/home/.local/state/xy`;
      this.socket = `${this.state}/xy.sock`;
    } else {
      this.config = `${dir}/config`;
      this.state = `${dir}/state`;
      this.socket = `${dir}/xy.sock`;
    }
  }

  /** The HOME under which xy's default paths are this sandbox's (with the `home` layout). */
  get home(): string {
    return `${this.dir}/home`;
  }

  /**
   * A sandbox in a new temp dir. With `layout: "home"`, its paths are xy's
   * defaults under {@link home}, so a command given only that HOME finds its daemon.
   */
  static async create(opts: { layout?: "sandbox" | "home" } = {}): Promise<Sandbox> {
    const dir = await Deno.makeTempDir({ prefix: "xy" });
    const s = new Sandbox(dir, opts.layout);
    // Explicit modes: configs writable by others are refused, whatever the umask.
    await Deno.mkdir(s.config, { recursive: true, mode: 0o700 });
    await Deno.chmod(s.config, 0o700);
    return s;
  }

  /**
   * Env that points the CLI and daemon at this sandbox. `XY_TEST_SANDBOX`
   * reaches every server process through the daemon's environment, so the
   * sandbox can find all it started on dispose, even those that left their group.
   */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      XY_CONFIG_DIR: this.config,
      XY_STATE_DIR: this.state,
      XY_SOCKET: this.socket,
      XY_TEST_SANDBOX: this.dir,
      NO_COLOR: "1",
      ...extra,
    };
  }

  /** Writes `<name>.kdl`. */
  async writeConfig(name: string, text: string): Promise<void> {
    await Deno.writeTextFile(`${this.config}/${name}.kdl`, text, { mode: 0o600 });
    await Deno.chmod(`${this.config}/${name}.kdl`, 0o600);
  }

  /** Runs `xy <args>` to completion. */
  async cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, ...args],
      env: this.env(env),
      stdin: "null",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  }

  /** Starts a foreground daemon; its stderr is collected for failure messages. */
  async daemon(env: Record<string, string> = {}): Promise<Daemon> {
    const child = new Deno.Command(Deno.execPath(), {
      args: daemonArgv(MAIN), // As the CLI starts it.
      env: this.env(env),
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const d = new Daemon(child, this);
    this.#daemons.push(d);
    await waitFor("the daemon to answer", async () => {
      if (d.exited) throw new Error(`daemon exited: ${d.log()}`);
      const c = await connectDaemon(env.XY_SOCKET ?? this.socket);
      try {
        await c.call("daemon_info");
      } finally {
        // Also when the call fails (a daemon still starting, or one going away): no leaked socket.
        await c.close();
      }
      return true;
    }, 15_000);
    return d;
  }

  /** An RPC client on the sandbox's socket. */
  async rpc(): Promise<DaemonClient> {
    return await connectDaemon(this.socket);
  }

  /** One call on a fresh connection. */
  async call<T = unknown>(method: string, params?: unknown): Promise<T> {
    const c = await this.rpc();
    try {
      return await c.request(method, params) as T;
    } finally {
      await c.close();
    }
  }

  /** Starts a process that listens on `port` (tracked), and resolves once it accepts. */
  async holdPort(port: number): Promise<Deno.ChildProcess> {
    const holder = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${FIXTURES}/listen.ts`, String(port)],
      stdout: "null",
      stderr: "null",
    }).spawn();
    this.track(holder);
    await waitFor(`something listening on ${port}`, async () => {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return true;
    });
    return holder;
  }

  /** Tracks a process the test started, to kill it on dispose. */
  track(child: Deno.ChildProcess): void {
    this.#extra.add(child);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    // Stop any daemon left running (started here or in the background) and every group it ran.
    const pids = new Set<number>();
    try {
      const rows = await this.call<{ pid?: number }[]>("list");
      for (const r of rows) if (r.pid) pids.add(r.pid);
      const info = await this.call<{ pid: number }>("daemon_info");
      Deno.kill(info.pid, "SIGTERM");
      await waitFor("the daemon to exit", async () => !(await alive(info.pid)), 30_000);
    } catch {
      // No daemon answering.
    }
    for (const d of this.#daemons) {
      const timer = setTimeout(() => {
        try {
          d.child.kill("SIGKILL");
        } catch {
          // Gone.
        }
      }, 30_000);
      await d.stop();
      clearTimeout(timer);
    }
    for (const child of this.#extra) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await child.status;
    }
    for (const pid of pids) {
      try {
        Deno.kill(-pid, "SIGKILL");
      } catch {
        // Gone, as it should be.
      }
    }
    for (const { pid } of await sandboxProcesses(this.dir)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Gone.
      }
    }
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/** A daemon process started by a test. */
export class Daemon {
  exited = false;
  #log = "";
  readonly #drain: Promise<void>;
  readonly status: Promise<Deno.CommandStatus>;

  constructor(readonly child: Deno.ChildProcess, readonly sandbox: Sandbox) {
    this.status = child.status.then((s) => {
      this.exited = true;
      return s;
    });
    this.#drain = (async () => {
      const dec = new TextDecoder();
      try {
        for await (const chunk of child.stderr) this.#log += dec.decode(chunk, { stream: true });
      } catch {
        // Cancelled.
      }
    })();
  }

  get pid(): number {
    return this.child.pid;
  }

  /** What the daemon logged so far. */
  log(): string {
    return this.#log;
  }

  /** SIGTERM, then waits for its exit code. */
  async stop(): Promise<number> {
    try {
      this.child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    const s = await this.status;
    await this.#drain;
    return s.code;
  }
}

let cachedDenoDir: string | undefined;
/**
 * Deno's cache dir of this run: a CLI run under another HOME must be given it,
 * or it would fill a new cache there (every npm package, from the network).
 */
export function denoDir(): string {
  if (cachedDenoDir) return cachedDenoDir;
  const out = new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdout: "piped" })
    .outputSync();
  cachedDenoDir = JSON.parse(new TextDecoder().decode(out.stdout)).denoDir as string;
  return cachedDenoDir;
}
