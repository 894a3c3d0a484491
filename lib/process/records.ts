/**
 * Records of spawns, so a daemon that was killed (SIGKILL, power loss) leaves
 * enough behind for the next one to stop what it started. One file per spawn,
 * `<state>/pids/<name>.<run>.json`: written *before* the spawn with the run's
 * marker (the `XY_RUN` its processes carry), completed after it with the pid,
 * process group and start time, each time atomically (write, then rename),
 * and removed once the run's whole group is gone.
 */
import { readStat } from "./group.ts";

/** Where a daemon records its spawns (`<state>/pids`), and its instance id, which each record names. */
export interface Recording {
  readonly dir: string;
  readonly daemon: string;
}

/** What is recorded about one spawn. `pid`, `pgid`, `start_time` once it exists. */
export interface SpawnRecord {
  readonly name: string;
  /** The run's marker: every process of the run carries `XY_RUN=<run>`. */
  readonly run?: string;
  /** The daemon instance that spawned it. */
  readonly daemon?: string;
  readonly grace_ms: number;
  readonly pid?: number;
  readonly pgid?: number;
  /** Opaque start time: clock ticks since boot on Linux, `ps -o lstart` on macOS. */
  readonly start_time?: string;
}

/** A new random 128-bit id, as hex. */
export function newRunId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const NAME = /^[a-z0-9_-]{1,64}$/;
const RUN = /^[0-9a-f]{32}$/;

/** A record from a file's text; undefined for a torn or foreign one. */
export function parseRecord(text: string): SpawnRecord | undefined {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof r !== "object" || r === null || typeof r.name !== "string" || !NAME.test(r.name)) {
    return undefined;
  }
  const pid = (v: unknown) => Number.isSafeInteger(v) && (v as number) > 1;
  const run = typeof r.run === "string" && RUN.test(r.run) ? r.run : undefined;
  const placed = pid(r.pid) && pid(r.pgid) && typeof r.start_time === "string";
  if (!run && !placed) return undefined;
  return {
    name: r.name,
    ...(run ? { run } : {}),
    ...(typeof r.daemon === "string" ? { daemon: r.daemon } : {}),
    grace_ms: Number.isSafeInteger(r.grace_ms) && (r.grace_ms as number) >= 0
      ? r.grace_ms as number
      : 10_000,
    ...(placed
      ? { pid: r.pid as number, pgid: r.pgid as number, start_time: r.start_time as string }
      : {}),
  };
}

/** The file of `record`. */
function fileOf(dir: string, record: SpawnRecord): string {
  return `${dir}/${record.name}${record.run ? `.${record.run}` : ""}.json`;
}

/**
 * Writes `record` atomically. Synchronous on purpose: a record is a few
 * hundred bytes in the page cache, and it sits between a crash and the
 * respawn, where every promise round trip shows.
 */
export function writeRecord(dir: string, record: SpawnRecord): void {
  const file = fileOf(dir, record);
  const tmp = `${dir}/.${file.slice(dir.length + 1)}.tmp`;
  const text = JSON.stringify(record) + "\n";
  try {
    Deno.writeTextFileSync(tmp, text, { mode: 0o600 });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.writeTextFileSync(tmp, text, { mode: 0o600 });
  }
  Deno.renameSync(tmp, file);
}

/** Removes the file of `record`, if any. */
export async function removeRecord(dir: string, record: SpawnRecord): Promise<void> {
  await Deno.remove(fileOf(dir, record)).catch(() => {});
}

/**
 * Completes the record of a spawn with the pid, group and start time. Best
 * effort: without them only crash recovery is weaker (the marker still
 * finds the run), so a failure here never stops supervision.
 */
export async function recordChild(dir: string, record: SpawnRecord, pid: number): Promise<void> {
  try {
    const startTime = await processStartTime(pid);
    if (startTime === undefined) return;
    writeRecord(dir, { ...record, pid, pgid: pid, start_time: startTime });
  } catch {
    // See above: supervision goes on.
  }
}

/** Every record in `dir`; a file that is not one (torn, or foreign) is removed. */
export async function readRecords(dir: string): Promise<SpawnRecord[]> {
  const out: SpawnRecord[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (!e.isFile || !e.name.endsWith(".json") || e.name.startsWith(".")) continue;
      const text = await Deno.readTextFile(`${dir}/${e.name}`).catch(() => "");
      const record = parseRecord(text);
      if (record && fileOf(dir, record) === `${dir}/${e.name}`) out.push(record);
      else await Deno.remove(`${dir}/${e.name}`).catch(() => {});
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out;
}

/** When `pid` started, or undefined when it is gone. Together with the pid it names one process for good. */
export async function processStartTime(pid: number): Promise<string | undefined> {
  if (Deno.build.os === "linux") {
    const stat = await readStat(pid);
    return stat && stat.state !== "Z" ? String(stat.startTime) : undefined;
  }
  try {
    const out = await new Deno.Command("ps", {
      args: ["-o", "lstart=", "-p", String(pid)],
      stderr: "null",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    return out.success && text ? text : undefined;
  } catch {
    return undefined;
  }
}
