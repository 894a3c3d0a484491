/**
 * Following a spawned child to its end. Its output goes to the log capture;
 * when its leader exits, the watcher looks whether the group outlived it and,
 * if so, watches until the group is empty. Each end is reported only once the
 * output written before it is collected, so a restart's lines never precede
 * the last lines of the run before.
 */
import type { Clock } from "../clock.ts";
import type { LogCapture, PipeReader } from "../logs/capture.ts";
import { deadline, pollUntil } from "../deadline.ts";
import type { ChildProcess, ExitStatus, Spawner } from "../process/spawner.ts";

/** How long to wait for a dead group's pipes to close before giving up on them. */
const PIPE_DRAIN_MS = 1_000;

/** Options of {@link watchChild}. */
export interface WatchOptions {
  readonly spawner: Spawner;
  readonly logs: LogCapture;
  readonly clock: Clock;
  /** How long to watch a group that outlives its leader before giving up on it. */
  readonly groupTimeoutMs: number;
  /** The leader exited; `groupAlive` when other members of its group still live. */
  onExit(exit: ExitStatus & { readonly groupAlive: boolean }): void;
  /** The group emptied after its leader's exit (never called when `groupAlive` was false). */
  onGroupGone(): void;
  /**
   * Who reads its stdout instead of the log capture: a stdio server's bridge,
   * for which stdout is the protocol.
   */
  readonly stdout?: (stdout: ReadableStream<Uint8Array>) => PipeReader;
}

/** Watches `child` until it and its group are gone; resolves false if the group never emptied. */
export async function watchChild(child: ChildProcess, opts: WatchOptions): Promise<boolean> {
  const { spawner, logs, clock } = opts;
  const pipe = (name: "stdout" | "stderr"): PipeReader =>
    logs.attach(child[name], name, child.resizePipe && ((bytes) => child.resizePipe!(name, bytes)));
  const pipes = [
    opts.stdout ? opts.stdout(child.stdout) : pipe("stdout"),
    pipe("stderr"),
  ];
  const { code, signal } = await child.status;
  const groupAlive = await spawner.groupAlive(child.pid).catch(() => false);
  if (!groupAlive) {
    await collect(pipes, logs, clock);
    opts.onExit({ code, signal, groupAlive });
    return true;
  }
  opts.onExit({ code, signal, groupAlive });
  // The machine signals the group; watch it empty, for longer than it waits itself.
  const gone = await pollUntil(async () => !(await spawner.groupAlive(child.pid)), {
    timeoutMs: opts.groupTimeoutMs,
  });
  await collect(pipes, logs, clock);
  if (gone) opts.onGroupGone();
  return gone === true;
}

/** Waits for the pipes to close (briefly: a process outside the group may hold them), then flushes. */
async function collect(pipes: PipeReader[], logs: LogCapture, clock: Clock) {
  await deadline(Promise.all(pipes.map((p) => p.done)), PIPE_DRAIN_MS, { clock }).catch(() => {});
  await Promise.all(pipes.map((p) => p.cancel()));
  logs.flush();
}
