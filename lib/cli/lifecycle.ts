/** `xy start|stop|restart`: the request, its lists, each failure with its stderr, and `--wait`. */
import { ExitCode, exitCodeForRpc } from "../errors.ts";
import { pollUntil } from "../poll.ts";
import type { RpcClient } from "../rpc/client.ts";
import { RpcError } from "../rpc/errors.ts";
import type { PartialFailure } from "../rpc/types.ts";
import type { Io } from "./io.ts";

/** A parsed lifecycle command. */
export interface LifecycleCommand {
  readonly kind: "start" | "stop" | "restart";
  readonly names: readonly string[];
  readonly all: boolean;
  readonly wait: boolean;
}

const LIST_LABELS: Record<string, string> = {
  started: "started",
  already_running: "already running",
  stopped: "stopped",
  not_running: "not running",
  restarted: "restarted",
};

/** Runs one lifecycle command; returns the exit code. */
export async function lifecycle(client: RpcClient, cmd: LifecycleCommand, io: Io): Promise<number> {
  const params = cmd.all ? { all: true as const } : { names: cmd.names };
  let result;
  try {
    result = await client.call(cmd.kind, params);
  } catch (e) {
    if (!(e instanceof RpcError) || !isPartialFailure(e.data)) throw e;
    printLists(e.data, io);
    for (const f of e.data.failed) {
      io.err(`xy: ${f.name}: ${f.message}\n`);
      await printStderrTail(client, f.name, io);
    }
    return exitCodeForRpc(e.code);
  }
  printLists(result, io);
  if (!cmd.wait || cmd.kind === "stop") return ExitCode.Ok;
  const names = cmd.all
    ? (await client.call("list")).filter((r) => r.state !== "invalid" && r.state !== "stopped")
      .map((r) => r.name)
    : cmd.names;
  return await waitUp(client, names, io);
}

function isPartialFailure(data: unknown): data is PartialFailure {
  return typeof data === "object" && data !== null &&
    Array.isArray((data as { failed?: unknown }).failed);
}

function printLists(result: object, io: Io) {
  for (const [key, label] of Object.entries(LIST_LABELS)) {
    const names = (result as Record<string, unknown>)[key];
    if (Array.isArray(names) && names.length) io.out(`${label}: ${names.join(", ")}\n`);
  }
}

/** `--wait`: until each is running (healthy where it has checks), or exit 1 when one fails. */
async function waitUp(client: RpcClient, names: readonly string[], io: Io): Promise<number> {
  const pending = new Set(names);
  const outcome = await pollUntil(async () => {
    for (const name of [...pending]) {
      const s = await client.call("status", { name });
      const healthy = s.health === undefined || s.health === "healthy" || s.health === "unknown";
      if (s.state === "running" && healthy) pending.delete(name);
      else if (s.state === "failed" || s.state === "restarting" || s.state === "stopped") {
        return { failed: s };
      }
    }
    return pending.size === 0 ? { failed: null } : undefined;
  }, { timeoutMs: Infinity, firstDelayMs: 20, maxDelayMs: 200 });
  const failed = outcome?.failed;
  if (failed) {
    io.err(`xy: ${failed.name} did not come up: ${failed.last_error ?? failed.state}\n`);
    for (const line of failed.stderr_tail) io.err(`  ${line}\n`);
    return ExitCode.Error;
  }
  io.out(`up: ${names.join(", ")}\n`);
  return ExitCode.Ok;
}

async function printStderrTail(client: RpcClient, name: string, io: Io) {
  try {
    const s = await client.call("status", { name });
    for (const line of s.stderr_tail) io.err(`  ${line}\n`);
  } catch {
    // The error line already said what failed.
  }
}
