/**
 * A daemon in a temp dir for the benchmark: configs, a real `xy daemon`, an
 * RPC client; and the cleanup that stops every daemon and child it started.
 */
import { connectDaemon, type DaemonClient } from "../lib/daemon/client.ts";
import { daemonArgv } from "../lib/cli/connect.ts";
import { pollUntil } from "../lib/deadline.ts";
import { parseEnviron } from "../lib/process/markers.ts";

const ROOT = new URL("../", import.meta.url).pathname;
/** The CLI's entry point. */
export const MAIN = `${ROOT}main.ts`;

/** What a figure is run with. */
export interface Bench {
  readonly isolation: "worker" | "inline";
}

const dirs = new Set<string>();
const daemons = new Set<Deno.ChildProcess>();

/** A temp dir with config, state and socket, and a daemon running on it. */
export class BenchDaemon {
  readonly config: string;
  readonly state: string;
  readonly socket: string;
  #child: Deno.ChildProcess | null = null;
  #client: DaemonClient | null = null;

  private constructor(readonly dir: string, readonly isolation: "worker" | "inline") {
    this.config = `${dir}/config`;
    this.state = `${dir}/state`;
    this.socket = `${dir}/xy.sock`;
  }

  /** A sandbox with `configs` (name → KDL text) in it; the daemon is not started yet. */
  static async create(
    bench: Bench,
    configs: Record<string, string> = {},
  ): Promise<BenchDaemon> {
    const dir = await Deno.makeTempDir({ prefix: "xy-bench" });
    dirs.add(dir);
    const d = new BenchDaemon(dir, bench.isolation);
    await Deno.mkdir(d.config, { mode: 0o700 });
    await Deno.chmod(d.config, 0o700);
    for (const [name, text] of Object.entries(configs)) {
      await Deno.writeTextFile(`${d.config}/${name}.kdl`, text, { mode: 0o600 });
    }
    return d;
  }

  /** Env that points the CLI and daemon here. */
  env(): Record<string, string> {
    return {
      XY_CONFIG_DIR: this.config,
      XY_STATE_DIR: this.state,
      XY_SOCKET: this.socket,
      XY_ISOLATION: this.isolation,
      XY_BENCH_SANDBOX: this.dir,
      NO_COLOR: "1",
    };
  }

  /** The daemon's pid. */
  get pid(): number {
    return this.#child!.pid;
  }

  /** Starts `xy daemon` and waits until it answers. */
  async start(): Promise<void> {
    const child = new Deno.Command(Deno.execPath(), {
      args: daemonArgv(MAIN), // As the CLI starts it.
      env: this.env(),
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    daemons.add(child);
    this.#child = child;
    const up = await pollUntil(async () => {
      try {
        const c = await connectDaemon(this.socket);
        await c.call("daemon_info");
        this.#client = c;
        return true;
      } catch {
        return undefined;
      }
    }, { timeoutMs: 20_000 });
    if (!up) throw new Error("bench: the daemon did not start");
  }

  /** The open RPC client. */
  get rpc(): DaemonClient {
    return this.#client!;
  }

  /** Runs the CLI with `args`; resolves with its exit code. */
  async cli(args: string[]): Promise<number> {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, ...args],
      env: this.env(),
      stdout: "null",
      stderr: "null",
    }).output();
    return out.code;
  }

  /** Waits until `check` holds (polling every few ms), or throws after `timeoutMs`. */
  async until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000) {
    const ok = await pollUntil(async () => (await check()) || undefined, {
      timeoutMs,
      firstDelayMs: 1,
      maxDelayMs: 5,
    });
    if (!ok) throw new Error(`bench: timed out waiting for ${what}`);
  }

  /** Stops the daemon (SIGTERM) and waits for it; then removes the dir. */
  async stop(): Promise<void> {
    await this.#client?.close();
    this.#client = null;
    const child = this.#child;
    if (child) {
      try {
        child.kill("SIGTERM");
      } catch {
        // Gone.
      }
      await child.status;
      daemons.delete(child);
    }
    await killMarked(this.dir);
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    dirs.delete(this.dir);
  }
}

/** SIGKILLs every live process whose environment says it belongs to bench dir `dir`. */
async function killMarked(dir: string) {
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name) || Number(e.name) === Deno.pid) continue;
    const env = await Deno.readFile(`/proc/${e.name}/environ`).catch(() => null);
    if (env && parseEnviron(env).get("XY_BENCH_SANDBOX") === dir) {
      try {
        Deno.kill(Number(e.name), "SIGKILL");
      } catch {
        // Gone.
      }
    }
  }
}

/** Stops whatever the benchmark left: daemons, their children, temp dirs. */
export async function cleanupAll(): Promise<void> {
  for (const child of daemons) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Gone.
    }
    await child.status;
  }
  for (const dir of dirs) {
    await killMarked(dir);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Reads `VmRSS` of `pid` (all its threads share it), in MB. */
export async function rssMb(pid: number): Promise<number> {
  const text = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(text)?.[1] ?? NaN);
  return kb / 1024;
}
