/**
 * Starting a server's command in a new session and signalling its process
 * group: the process port of the actor, which tests swap for a fake.
 */
import { errorMessage } from "../error_message.ts";
import { commandProblem, notExecutable, notFound } from "./command_check.ts";
import { groupAlive, signalGroup } from "./group.ts";
import { setPipeSize } from "./pipe_size.ts";

/** What to run. `env` is added to the daemon's own environment. */
export interface SpawnSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** A pipe to its stdin (a stdio server's channel); else it reads from /dev/null. */
  readonly stdin?: "piped";
}

/** How a process ended. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: string | null;
}

/** A running child: its pid (= process group id) and its output. */
export interface ChildProcess {
  readonly pid: number;
  readonly status: Promise<ExitStatus>;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  /** Its stdin, when it was spawned with one. */
  readonly stdin?: WritableStream<Uint8Array>;
  /**
   * Sets the capacity of its stdout or stderr pipe (pipe_size.ts); false
   * where it cannot, as when absent.
   */
  readonly resizePipe?: (stream: "stdout" | "stderr", bytes: number) => boolean;
}

/** A signal sent to a whole process group. */
export type GroupSignal = "SIGTERM" | "SIGKILL";

/** Starts processes and signals their groups. */
export interface Spawner {
  /** Starts `spec` as the leader of a new session; throws {@link SpawnError} with a reason a person can act on. */
  spawn(spec: SpawnSpec): ChildProcess;
  /** Sends `signal` to every process of group `pgid`; false when the group is gone. */
  signalGroup(pgid: number, signal: GroupSignal): boolean;
  /** True while group `pgid` has a live member. */
  groupAlive(pgid: number): Promise<boolean>;
}

/** The command could not be started at all. */
export class SpawnError extends Error {
  override readonly name = "SpawnError";
}

/**
 * `setsid(1)`, where it is found. Starting a command through it (its child is
 * not a group leader, so it calls setsid() and execs, keeping the pid) gives
 * the same session and group as `detached: true`, which makes Deno fork: and
 * a fork copies the page tables of the whole daemon, 25 ms with a hundred
 * workers here, against 1.5 ms for the posix_spawn a plain spawn uses.
 */
const SETSID = ["/usr/bin/setsid", "/bin/setsid"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});

/**
 * The real spawner: each child leads its own session and process group, so
 * `kill(-pgid)` reaches all it forks.
 */
export const denoSpawner: Spawner = {
  spawn(spec: SpawnSpec): ChildProcess {
    if (spec.cwd !== undefined) {
      let isDir = false;
      try {
        isDir = Deno.statSync(spec.cwd).isDirectory;
      } catch {
        throw new SpawnError(`working-dir "${spec.cwd}" does not exist`);
      }
      if (!isDir) throw new SpawnError(`working-dir "${spec.cwd}" is not a directory`);
    }
    if (SETSID) {
      // setsid would only report a failed exec as an exit code: ask first.
      const problem = commandProblem(spec.command, {
        path: spec.env.PATH ?? Deno.env.get("PATH"),
        ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
      });
      if (problem) throw new SpawnError(problem);
    }
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(SETSID ?? spec.command, {
        args: SETSID ? [spec.command, ...spec.args] : [...spec.args],
        env: { ...spec.env },
        ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
        stdin: spec.stdin ?? "null",
        stdout: "piped",
        stderr: "piped",
        detached: !SETSID,
      }).spawn();
    } catch (e) {
      throw new SpawnError(describeSpawnError(spec.command, e));
    }
    if (SETSID) {
      unreaped.add(child.pid);
      child.status.finally(() => unreaped.delete(child.pid));
    }
    const status = child.status.then((s) => ({
      // Deno reports a signal death as code 128+N with `signal` set; keep the signal alone.
      code: s.signal ? null : s.code,
      signal: s.signal ?? null,
    }));
    // Once reaped, its pid may be another process's.
    let reaped = false;
    status.then(() => reaped = true, () => reaped = true);
    return {
      pid: child.pid,
      status,
      stdout: child.stdout,
      stderr: child.stderr,
      ...(spec.stdin ? { stdin: child.stdin } : {}),
      resizePipe: (stream, bytes) =>
        !reaped && setPipeSize(child.pid, stream === "stdout" ? 1 : 2, bytes),
    };
  },
  signalGroup(pgid, signal) {
    if (signalGroup(pgid, signal)) return true;
    // Until setsid() has run in a child just spawned, its pid is not a group yet: the
    // child alone is signalled (it cannot have started anything). Only an unreaped child:
    // once reaped, its pid may be another process's.
    if (!unreaped.has(pgid)) return false;
    try {
      Deno.kill(pgid, signal);
      return true;
    } catch {
      return false;
    }
  },
  async groupAlive(pgid) {
    return unreaped.has(pgid) || await groupAlive(pgid);
  },
};

/** Children started through setsid whose exit has not been collected yet. */
const unreaped = new Set<number>();

function describeSpawnError(command: string, e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return notFound(command);
  if (e instanceof Deno.errors.PermissionDenied) return notExecutable(command);
  return `cannot start "${command}": ${errorMessage(e)}`;
}
