/**
 * Signals to whole process groups. A supervised child is spawned with
 * `setsid()`, so its pid is also its process group id and `kill(-pgid)` reaches
 * every process it forked.
 */

/** Only real pids may reach `kill`: `-undefined` or `-NaN` would become `kill(0)` and signal the daemon's own group. */
export function assertPid(pid: number): void {
  if (!Number.isSafeInteger(pid) || pid <= 1) throw new RangeError(`refusing to signal pid ${pid}`);
}

/** Sends `signal` to every process in group `pgid`; false when the group is gone. */
export function signalGroup(pgid: number, signal: Deno.Signal): boolean {
  assertPid(pgid);
  try {
    Deno.kill(-pgid, signal);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    // EPERM: the group holds a process we may not signal (setuid); treat as alive.
    if (e instanceof Deno.errors.PermissionDenied) return true;
    throw e;
  }
}

/** The members last seen of each group watched, so most checks read a few files, not /proc. */
const lastSeen = new Map<number, number[]>();

/**
 * True while group `pgid` has a live (non-zombie) member. `kill` answers for
 * an empty group at once; but it counts zombies, which no reaper may collect
 * here, so on Linux a member is confirmed in `/proc`: first among the members
 * seen last time, and only when they are all gone by a scan of `/proc`.
 */
export async function groupAlive(pgid: number): Promise<boolean> {
  if (!signalGroup(pgid, "SIGCONT")) {
    lastSeen.delete(pgid);
    return false;
  }
  if (Deno.build.os !== "linux") return true;
  for (const pid of lastSeen.get(pgid) ?? []) {
    if (isLiveMember(await readStat(pid), pgid)) return true;
  }
  try {
    const members: number[] = [];
    for await (const entry of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      const pid = Number(entry.name);
      if (isLiveMember(await readStat(pid), pgid)) members.push(pid);
    }
    if (members.length === 0) lastSeen.delete(pgid);
    else lastSeen.set(pgid, members);
    return members.length > 0;
  } catch {
    return true;
  }
}

function isLiveMember(stat: ProcStat | undefined, pgid: number): boolean {
  return stat !== undefined && stat.pgrp === pgid && stat.state !== "Z" && stat.state !== "X";
}

/** Fields of `/proc/<pid>/stat` (Linux): state, process group, start time in clock ticks. */
export interface ProcStat {
  readonly state: string;
  readonly pgrp: number;
  readonly startTime: number;
}

/** Reads `/proc/<pid>/stat`, or undefined when the process is gone. */
export async function readStat(pid: number): Promise<ProcStat | undefined> {
  try {
    return parseStat(await Deno.readTextFile(`/proc/${pid}/stat`));
  } catch {
    return undefined;
  }
}

/** {@link readStat}, synchronously, for the few places that cannot wait a turn. */
export function readStatSync(pid: number): ProcStat | undefined {
  try {
    return parseStat(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return undefined;
  }
}

function parseStat(text: string): ProcStat {
  // The command name is in parentheses and may itself contain spaces or ')'.
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: rest[0] ?? "?", pgrp: Number(rest[2]), startTime: Number(rest[19]) };
}
