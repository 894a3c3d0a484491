/**
 * What `exec` would say about a command, asked before the spawn: found (on
 * PATH, or at its path, against the working dir), executable, and — for a
 * script — with an interpreter that exists. The spawner needs the answer up
 * front because it starts commands through `setsid`, which would only report
 * a failed exec as an exit code.
 */

/** Why `command` cannot be run, or undefined when it can. */
export function commandProblem(
  command: string,
  opts: { readonly path: string | undefined; readonly cwd?: string },
): string | undefined {
  const file = locate(command, opts);
  if (file === undefined) {
    return command.includes("/")
      ? `command "${command}" not found (or its interpreter is missing)`
      : `command "${command}" not found on PATH`;
  }
  const info = Deno.statSync(file);
  if (!info.isFile || info.mode === null || (info.mode & 0o111) === 0) {
    return `command "${command}" is not executable (or is a directory)`;
  }
  const interpreter = shebang(file);
  if (interpreter !== undefined && interpreter.startsWith("/") && !exists(interpreter)) {
    return `command "${command}" not found (or its interpreter is missing)`;
  }
  return undefined;
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
