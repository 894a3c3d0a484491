/**
 * What processes cost (SPEC §13): a sample of every live process — its group,
 * its CPU time so far, its resident memory, its run mark (markers.ts) — and a
 * server's CPU and memory from two samples: the sum over its processes, its
 * groups' members and every process carrying one of its runs' marks (which
 * finds those that left the group, and a per-session server's children).
 * CPU is a percentage of one core over the time between the samples.
 *
 * Linux reads `/proc/<pid>/stat` (and a new process's `environ` once, for its
 * mark); macOS asks `ps`, whose output is parsed here (tested on captured
 * output, as the marker scan is).
 */
import { parseEnviron, parsePsEnv, RUN_MARK } from "./markers.ts";

/** One live process, as a sample sees it. */
export interface ProcUsage {
  readonly pid: number;
  readonly pgrp: number;
  /** When it started (opaque): a pid used again is another process. */
  readonly start: string;
  /** CPU time so far, user and system, in ms. */
  readonly cpuMs: number;
  readonly rssBytes: number;
  /** Its `XY_RUN` mark, when it carries one. */
  readonly run?: string;
}

/** Every live process at `at` (ms, a monotonic clock), by pid. */
export interface UsageSample {
  readonly at: number;
  readonly procs: ReadonlyMap<number, ProcUsage>;
}

/** Which processes are a server's: the members of its groups, and those carrying one of its runs' marks. */
export interface ServerProcs {
  readonly groups: readonly number[];
  readonly runs: readonly string[];
}

/** What a server's processes cost. */
export interface Usage {
  /** Percent of one core, over the time between the two samples. */
  readonly cpuPercent: number;
  readonly rssBytes: number;
  readonly processes: number;
}

/**
 * The cost of `who`'s processes in `after`, their CPU over the time since
 * `before`. A process `before` did not hold (or held as another, by its start)
 * began since: all its CPU time counts.
 */
export function usageOf(before: UsageSample, after: UsageSample, who: ServerProcs): Usage {
  const groups = new Set(who.groups);
  const runs = new Set(who.runs);
  let cpuMs = 0;
  let rssBytes = 0;
  let processes = 0;
  for (const p of after.procs.values()) {
    if (!groups.has(p.pgrp) && !(p.run !== undefined && runs.has(p.run))) continue;
    processes++;
    rssBytes += p.rssBytes;
    const then = before.procs.get(p.pid);
    cpuMs += then && then.start === p.start ? Math.max(0, p.cpuMs - then.cpuMs) : p.cpuMs;
  }
  const span = after.at - before.at;
  return { cpuPercent: span > 0 ? (cpuMs / span) * 100 : 0, rssBytes, processes };
}

/** Takes samples: `/proc` on Linux, `ps` elsewhere. */
export class UsageScanner {
  /** Each process's mark, by pid and start: a process's environment is read once. */
  readonly #marks = new Map<string, string | null>();
  #units: { tickMs: number; pageBytes: number } | null = null;

  /** A sample of every live process now. */
  async sample(): Promise<UsageSample> {
    if (Deno.build.os !== "linux") return await this.#fromPs();
    const units = this.#units ??= linuxUnits();
    const procs = new Map<number, ProcUsage>();
    const seen = new Set<string>();
    for (const e of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      const pid = Number(e.name);
      let text: string;
      try {
        text = Deno.readTextFileSync(`/proc/${pid}/stat`);
      } catch {
        continue; // Gone meanwhile.
      }
      const p = parseProcStat(pid, text, units);
      if (!p) continue;
      const key = `${pid}:${p.start}`;
      seen.add(key);
      let run = this.#marks.get(key);
      if (run === undefined) {
        run = markOf(pid);
        this.#marks.set(key, run);
      }
      procs.set(pid, run ? { ...p, run } : p);
    }
    for (const key of this.#marks.keys()) if (!seen.has(key)) this.#marks.delete(key);
    return { at: performance.now(), procs };
  }

  async #fromPs(): Promise<UsageSample> {
    const [table, env] = await Promise.all([
      ps(["-A", "-o", "pid=,pgid=,rss=,time=,lstart="]),
      ps(["-wwE", "-U", String(Deno.uid()), "-o", "pid=,command="]),
    ]);
    const marks = new Map(parsePsEnv(env).map((m) => [m.pid, m.run]));
    const procs = new Map<number, ProcUsage>();
    for (const p of parsePsUsage(table)) {
      const run = marks.get(p.pid);
      procs.set(p.pid, run ? { ...p, run } : p);
    }
    return { at: performance.now(), procs };
  }
}

/**
 * One line of `/proc/<pid>/stat`: undefined for a zombie (it costs nothing
 * and is no one's any more). The command name, in parentheses, may hold
 * spaces and parentheses itself.
 */
export function parseProcStat(
  pid: number,
  text: string,
  units: { tickMs: number; pageBytes: number },
): ProcUsage | undefined {
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  if (f[0] === "Z" || f[0] === "X") return undefined;
  return {
    pid,
    pgrp: Number(f[2]),
    start: f[19] ?? "",
    cpuMs: (Number(f[11]) + Number(f[12])) * units.tickMs,
    rssBytes: Number(f[21]) * units.pageBytes,
  };
}

/** `ps -A -o pid=,pgid=,rss=,time=,lstart=`: rss in KiB, CPU time as `[[dd-]hh:]mm:ss[.cc]`. */
export function parsePsUsage(output: string): ProcUsage[] {
  const out: ProcUsage[] = [];
  for (const line of output.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(.+?)\s*$/.exec(line);
    if (!m) continue;
    out.push({
      pid: Number(m[1]),
      pgrp: Number(m[2]),
      start: m[5]!,
      cpuMs: cpuTimeMs(m[4]!),
      rssBytes: Number(m[3]) * 1024,
    });
  }
  return out;
}

/** `1-02:03:04.50`, `02:03:04`, `3:04.50` → ms. */
export function cpuTimeMs(text: string): number {
  const [days, rest] = text.includes("-") ? text.split("-") as [string, string] : ["0", text];
  const parts = rest.split(":").map(Number);
  while (parts.length < 3) parts.unshift(0);
  const [h, m, s] = parts as [number, number, number];
  return Math.round(((Number(days) * 24 + h) * 3600 + m * 60 + s) * 1000);
}

/** A process's `XY_RUN` mark; null when it has none or it cannot be read (another user's). */
function markOf(pid: number): string | null {
  try {
    return parseEnviron(Deno.readFileSync(`/proc/${pid}/environ`)).get(RUN_MARK) ?? null;
  } catch {
    return null;
  }
}

/** The clock tick and the page size (`getconf`), the usual ones where it cannot say. */
function linuxUnits(): { tickMs: number; pageBytes: number } {
  const conf = (name: string, fallback: number) => {
    try {
      const out = new Deno.Command("getconf", { args: [name], stdout: "piped", stderr: "null" })
        .outputSync();
      const n = Number(new TextDecoder().decode(out.stdout).trim());
      return out.success && n > 0 ? n : fallback;
    } catch {
      return fallback;
    }
  };
  return { tickMs: 1000 / conf("CLK_TCK", 100), pageBytes: conf("PAGESIZE", 4096) };
}

async function ps(args: string[]): Promise<string> {
  const out = await new Deno.Command("ps", { args, stdout: "piped", stderr: "null" }).output();
  return new TextDecoder().decode(out.stdout);
}
