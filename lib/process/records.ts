/**
 * Records of running children, so a daemon that was killed (SIGKILL, power
 * loss) leaves enough behind for the next one to stop what it started. One
 * file per server, `<state>/pids/<name>.json`, written atomically (write,
 * then rename) by that server's actor only, so writers never race.
 */
import { readStat } from "./group.ts";

/** What is recorded about one child. */
export interface ChildRecord {
  readonly name: string;
  readonly pid: number;
  readonly pgid: number;
  /** Opaque start time: clock ticks since boot on Linux, `ps -o lstart` on macOS. */
  readonly start_time: string;
  readonly grace_ms: number;
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

/** Writes `record` to `<dir>/<name>.json` atomically. */
export async function writeRecord(dir: string, record: ChildRecord): Promise<void> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${dir}/.${record.name}.json.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(record) + "\n", { mode: 0o600 });
  await Deno.rename(tmp, `${dir}/${record.name}.json`);
}

/**
 * Records child `pid` of server `name` for the next daemon, should this one
 * be killed. Best effort: without a record only crash recovery is weaker, so
 * a failure here never stops supervision.
 */
export async function recordChild(
  dir: string,
  child: { name: string; pid: number; graceMs: number },
): Promise<void> {
  try {
    const startTime = await processStartTime(child.pid);
    if (startTime === undefined) return;
    await writeRecord(dir, {
      name: child.name,
      pid: child.pid,
      pgid: child.pid,
      start_time: startTime,
      grace_ms: child.graceMs,
    });
  } catch {
    // See above: supervision goes on.
  }
}

/** Removes the record of `name`, if any. */
export async function removeRecord(dir: string, name: string): Promise<void> {
  await Deno.remove(`${dir}/${name}.json`).catch(() => {});
}

/** Every readable record in `dir`. */
export async function readRecords(dir: string): Promise<ChildRecord[]> {
  const out: ChildRecord[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (!e.name.endsWith(".json") || e.name.startsWith(".")) continue;
      try {
        const r = JSON.parse(await Deno.readTextFile(`${dir}/${e.name}`));
        if (
          Number.isSafeInteger(r.pid) && r.pid > 1 && Number.isSafeInteger(r.pgid) && r.pgid > 1
        ) out.push(r);
      } catch {
        // A torn or foreign file: nothing to act on.
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out;
}
