/**
 * Starting a server's command in a new session and signalling its process
 * group: the process port of the actor, which tests swap for a fake.
 */
import { errorMessage } from "../errors.ts";
import { groupAlive, signalGroup } from "./group.ts";

/** What to run. `env` is added to the daemon's own environment. */
export interface SpawnSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
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

/** The real spawner: `Deno.Command` with `detached: true`, so the child leads its own session and group. */
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
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(spec.command, {
        args: [...spec.args],
        env: { ...spec.env },
        ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        detached: true,
      }).spawn();
    } catch (e) {
      throw new SpawnError(describeSpawnError(spec.command, e));
    }
    const status = child.status.then((s) => ({
      // Deno reports a signal death as code 128+N with `signal` set; keep the signal alone.
      code: s.signal ? null : s.code,
      signal: s.signal ?? null,
    }));
    return { pid: child.pid, status, stdout: child.stdout, stderr: child.stderr };
  },
  signalGroup,
  groupAlive,
};

function describeSpawnError(command: string, e: unknown): string {
  if (e instanceof Deno.errors.NotFound) {
    return command.includes("/")
      ? `command "${command}" not found (or its interpreter is missing)`
      : `command "${command}" not found on PATH`;
  }
  if (e instanceof Deno.errors.PermissionDenied) {
    return `command "${command}" is not executable (or is a directory)`;
  }
  return `cannot start "${command}": ${errorMessage(e)}`;
}
