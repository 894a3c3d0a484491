/** Running a service manager's command (`systemctl`, `launchctl`) found on a given PATH. */
import { deadline } from "../deadline.ts";
import { errorMessage } from "../error_message.ts";

/** A service manager command that ran (or could not: `code` null). */
export interface Step {
  readonly command: readonly string[];
  readonly code: number | null;
  readonly output: string;
}

/** How long a manager command may take before it is killed. */
const COMMAND_TIMEOUT_MS = 20_000;

/** Runs `command`, looked up on `path`, with a time limit; never throws. */
export async function runCommand(path: string, command: readonly string[]): Promise<Step> {
  const [name, ...args] = command as [string, ...string[]];
  const exe = which(name, path);
  if (!exe) return { command, code: null, output: `${name} is not on PATH` };
  try {
    const child = new Deno.Command(exe, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const out = await deadline(child.output(), COMMAND_TIMEOUT_MS, {
      onTimeout: () => {
        child.kill("SIGKILL");
        return new Error(`${name} did not answer within ${COMMAND_TIMEOUT_MS / 1000}s`);
      },
    });
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return { command, code: out.signal ? null : out.code, output: text.trim() };
  } catch (e) {
    return { command, code: null, output: errorMessage(e) };
  }
}

/** The executable `name` on `path`, if any. */
export function which(name: string, path: string): string | undefined {
  for (const dir of path.split(":")) {
    if (!dir) continue;
    try {
      const st = Deno.statSync(`${dir}/${name}`);
      if (st.isFile && st.mode !== null && (st.mode & 0o111) !== 0) return `${dir}/${name}`;
    } catch {
      // Not here.
    }
  }
  return undefined;
}
