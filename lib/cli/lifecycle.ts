/** `xy start|stop|restart`: the request, its lists, each failure with its stderr, and `--wait`. */
import type { DaemonClient } from "../daemon/client.ts";
import { formatSetting } from "../config/units.ts";
import { ExitCode, exitCodeForRpc } from "../protocol/failures.ts";
import { pollUntil } from "../deadline.ts";
import { RpcError } from "../rpc/errors.ts";
import type { PartialFailure, StatusDetail, WireWaiting } from "../protocol/types.ts";
import type { Io } from "./io.ts";

/** A parsed lifecycle command. */
export interface LifecycleCommand {
  readonly kind: "start" | "stop" | "restart";
  readonly names: readonly string[];
  readonly all: boolean;
  readonly wait: boolean;
  /** How long `--wait` waits; by default, what the servers' start periods allow. */
  readonly timeoutMs?: number;
}

/** What `--wait` gives beyond the start periods of the servers it waits for. */
export const WAIT_MARGIN_MS = 10_000;

const LIST_LABELS: Record<string, string> = {
  started: "started",
  already_running: "already running",
  starting: "starting",
  restarted: "restarted",
  blocked: "blocked until their dependencies are up",
  stopped: "stopped",
  not_running: "not running",
};

/** Runs one lifecycle command; returns the exit code. */
export async function lifecycle(
  client: DaemonClient,
  cmd: LifecycleCommand,
  io: Io,
): Promise<number> {
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
  return await waitUp(client, { names, timeoutMs: cmd.timeoutMs }, io);
}

function isPartialFailure(data: unknown): data is PartialFailure {
  return typeof data === "object" && data !== null &&
    Array.isArray((data as { failed?: unknown }).failed);
}

function printLists(result: object, io: Io) {
  const lists = result as Record<string, unknown>;
  const dependents = new Set(Array.isArray(lists.dependents) ? lists.dependents as string[] : []);
  for (const [key, label] of Object.entries(LIST_LABELS)) {
    const names = lists[key];
    if (!Array.isArray(names)) continue;
    const shown = key === "stopped" ? names.filter((n) => !dependents.has(n)) : names;
    if (shown.length) io.out(`${label}: ${shown.join(", ")}\n`);
  }
  if (dependents.size) {
    io.out(`stopped first, as they depend on those: ${[...dependents].join(", ")}\n`);
  }
}

/** Why a server will not come up by waiting longer, or undefined while it may. */
function failure(s: StatusDetail): string | undefined {
  if (s.state === "failed" || s.state === "restarting" || s.state === "stopped") {
    return s.last_error ?? s.state;
  }
  const dead = deadEnds(s.waiting_for ?? []);
  if (s.state === "blocked" && dead.length) {
    return `blocked: ${dead.map((w) => `${w.name} is ${w.state}`).join(", ")}`;
  }
  return undefined;
}

/** The dependencies, at any depth, that will not come up by waiting: failed, invalid or missing. */
function deadEnds(waits: readonly WireWaiting[]): WireWaiting[] {
  return waits.flatMap((w) =>
    ["failed", "invalid", "missing"].includes(w.state) ? [w] : deadEnds(w.waiting_for ?? [])
  );
}

/**
 * `--wait`: until the daemon says each is ready (status's `ready`), or exit 1
 * as soon as one fails, or when the wait times out.
 */
async function waitUp(
  client: DaemonClient,
  opts: { names: readonly string[]; timeoutMs: number | undefined },
  io: Io,
): Promise<number> {
  const pending = new Set(opts.names);
  const timeoutMs = opts.timeoutMs ?? await defaultTimeout(client, opts.names);
  const last = new Map<string, StatusDetail>();
  const outcome = await pollUntil(async () => {
    for (const name of [...pending]) {
      const s = await client.call("status", { name });
      last.set(name, s);
      if (s.ready) pending.delete(name);
      else if (failure(s)) return { failed: s };
    }
    return pending.size === 0 ? { failed: null } : undefined;
  }, { timeoutMs, firstDelayMs: 20, maxDelayMs: 200 });
  if (!outcome) {
    const waiting = [...pending].map((n) => {
      const s = last.get(n);
      return `${n} (${s?.blocked_by ?? s?.state ?? "unknown"})`;
    });
    io.err(`xy: timed out after ${formatSetting(timeoutMs)} waiting for ${waiting.join(", ")}\n`);
    return ExitCode.Error;
  }
  if (outcome.failed) {
    const s = outcome.failed;
    io.err(`xy: ${s.name} did not come up: ${failure(s)}\n`);
    for (const line of s.stderr_tail) io.err(`  ${line}\n`);
    return ExitCode.Error;
  }
  io.out(`up: ${opts.names.join(", ")}\n`);
  return ExitCode.Ok;
}

/** The start periods of the servers and of what they depend on, chained, plus a margin. */
async function defaultTimeout(client: DaemonClient, names: readonly string[]): Promise<number> {
  const seen = new Set<string>();
  let total = WAIT_MARGIN_MS;
  const queue = [...names];
  while (queue.length) {
    const name = queue.shift()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const s = await client.call("status", { name }).catch(() => undefined);
    total += s?.health_check?.start_period_ms ?? 0;
    queue.push(...(s?.depends_on ?? []));
  }
  return total;
}

async function printStderrTail(client: DaemonClient, name: string, io: Io) {
  try {
    const s = await client.call("status", { name });
    for (const line of s.stderr_tail) io.err(`  ${line}\n`);
  } catch {
    // The error line already said what failed.
  }
}
