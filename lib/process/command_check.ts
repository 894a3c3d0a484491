/**
 * What `exec` would say about a command, asked before the spawn: found (on
 * PATH, or at its path, against the working dir), executable, and — for a
 * script — with an interpreter that exists. The spawner needs the answer up
 * front because it starts commands through `setsid`, which would only report
 * a failed exec as an exit code.
 */

/**
 * How long a command found runnable is taken as runnable without looking
 * again. A hundred servers of one command started at once then look it up
 * once: each look walks PATH, and each directory it is not in costs an error
 * object (30 ms of an inline boot of 100 here, bench/RESULTS.md, "What each change bought", 16).
 * A command removed within that time fails at exec instead: its server exits
 * 127 and its restart policy takes it from there.
 */
export const FOUND_FOR_MS = 1_000;

/** When each command (with its PATH and working dir) was last found runnable. */
const found = new Map<string, number>();

/** Why `command` cannot be run, or undefined when it can. `now`: a monotonic time in ms. */
export function commandProblem(
  command: string,
  opts: { readonly path: string | undefined; readonly cwd?: string; readonly now?: number },
): string | undefined {
  const now = opts.now ?? performance.now();
  const key = `${command}\0${opts.path ?? ""}\0${opts.cwd ?? ""}`;
  const at = found.get(key);
  if (at !== undefined && now - at < FOUND_FOR_MS) return undefined;
  const problem = lookUp(command, opts);
  if (problem === undefined) {
    if (found.size >= 256) found.clear();
    found.set(key, now);
  } else {
    found.delete(key);
  }
  return problem;
}

function lookUp(
  command: string,
  opts: { readonly path: string | undefined; readonly cwd?: string },
): string | undefined {
  const file = locate(command, opts);
  if (file === undefined) return notFound(command);
  const info = Deno.statSync(file);
  if (!info.isFile || info.mode === null || (info.mode & 0o111) === 0) {
    return notExecutable(command);
  }
  const interpreter = shebang(file);
  if (interpreter !== undefined && interpreter.startsWith("/") && !exists(interpreter)) {
    return notFound(command);
  }
  return undefined;
}

/** Why `command` cannot be run when it, or the interpreter its script names, is not found. */
export function notFound(command: string): string {
  return command.includes("/")
    ? `command "${command}" not found (or its interpreter is missing)`
    : `command "${command}" not found on PATH`;
}

/** Why `command` cannot be run when it is found but may not be executed. */
export function notExecutable(command: string): string {
  return `command "${command}" is not executable (or is a directory)`;
}

/** The file `command` names: a path (against `cwd` when relative), or the first match on PATH. */
function locate(command: string, opts: { path: string | undefined; cwd?: string }) {
  if (command.includes("/")) {
    const file = command.startsWith("/") ? command : `${opts.cwd ?? Deno.cwd()}/${command}`;
    return exists(file) ? file : undefined;
  }
  for (const dir of (opts.path ?? "").split(":")) {
    if (dir === "") continue;
    const file = `${dir}/${command}`;
    try {
      const info = Deno.statSync(file);
      if (info.isFile && info.mode !== null && (info.mode & 0o111) !== 0) return file;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

/** The interpreter a script's `#!` line names, if it has one. */
function shebang(file: string): string | undefined {
  let f: Deno.FsFile | undefined;
  try {
    f = Deno.openSync(file, { read: true });
    const head = new Uint8Array(256);
    const n = f.readSync(head) ?? 0;
    if (n < 2 || head[0] !== 0x23 || head[1] !== 0x21) return undefined;
    const line = new TextDecoder().decode(head.subarray(2, n)).split("\n")[0]!.trim();
    return line.split(/\s+/)[0];
  } catch {
    return undefined;
  } finally {
    f?.close();
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
