/**
 * The marks every process xy starts carries in its environment, inherited by
 * all it forks: `XY_SERVER=<name>` and `XY_RUN=<run id>`. A process that left
 * its group (setsid), or whose group leader died, is still found by them.
 * Linux reads `/proc/<pid>/environ`; macOS asks `ps -E`, whose output is the
 * command line with the environment after it.
 */

/** The variable naming the server a process belongs to. */
export const SERVER_MARK = "XY_SERVER";
/** The variable naming the run (one spawn) a process belongs to. */
export const RUN_MARK = "XY_RUN";

/** A live process of this user that carries a run's mark. */
export interface Marked {
  readonly pid: number;
  readonly run: string;
  readonly server?: string;
}

const RUN = /^[0-9a-f]{32}$/;
const decoder = new TextDecoder();

/** The variables of a `/proc/<pid>/environ` block: `KEY=VALUE` entries, each ended by NUL. */
export function parseEnviron(bytes: Uint8Array): Map<string, string> {
  const env = new Map<string, string>();
  for (const entry of decoder.decode(bytes).split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return env;
}

/** Every live process of this user carrying `XY_RUN`. */
export async function markedProcesses(): Promise<Marked[]> {
  return Deno.build.os === "linux" ? await fromProc() : parsePsEnv(await psEnv());
}

async function fromProc(): Promise<Marked[]> {
  const uid = Deno.uid();
  const out: Marked[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      if ((await Deno.stat(`/proc/${e.name}`)).uid !== uid) continue;
      const env = parseEnviron(await Deno.readFile(`/proc/${e.name}/environ`));
      const run = env.get(RUN_MARK);
      if (!run || !RUN.test(run)) continue;
      const server = env.get(SERVER_MARK);
      out.push({ pid: Number(e.name), run, ...(server ? { server } : {}) });
    } catch {
      // Gone, or not readable (a zombie has no environment): nothing to find there.
    }
  }
  return out;
}

async function psEnv(): Promise<string> {
  const out = await new Deno.Command("ps", {
    args: ["-wwE", "-U", String(Deno.uid()), "-o", "pid=,command="],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout);
}

/**
 * The marked processes in the output of `ps -wwE -o pid=,command=`: each line
 * a pid, then the command line with the environment after it (macOS; Linux's
 * `ps eww` prints the same).
 */
export function parsePsEnv(output: string): Marked[] {
  const out: Marked[] = [];
  for (const line of output.split("\n")) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const run = /(?:^|\s)XY_RUN=([0-9a-f]{32})(?=\s|$)/.exec(m[2]!)?.[1];
    if (!run) continue;
    const server = /(?:^|\s)XY_SERVER=([a-z0-9_-]+)(?=\s|$)/.exec(m[2]!)?.[1];
    out.push({ pid: Number(m[1]), run, ...(server ? { server } : {}) });
  }
  return out;
}
