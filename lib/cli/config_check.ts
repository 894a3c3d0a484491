/** `xy config check`: every error of every file, without a daemon. */
import type { Paths } from "../daemon/paths.ts";
import { ExitCode } from "../protocol/failures.ts";
import type { Io } from "./io.ts";
import type { InvalidFile } from "../config/load.ts";

/** Every error of `invalid`, a line each (`file:line:column: what`). */
export function formatConfigErrors(invalid: readonly InvalidFile[]): string {
  return invalid.flatMap((f) => f.errors.map((e) => `${e.message}\n`)).join("");
}

/** Validates the config dir; exit 3 when any file is invalid. */
export async function configCheck(paths: Paths, io: Io): Promise<number> {
  try {
    if (!(await Deno.stat(paths.configDir)).isDirectory) throw new Error("not a directory");
  } catch {
    io.err(
      `xy: config dir ${paths.configDir} does not exist (the daemon creates it on first run)\n`,
    );
    return ExitCode.Error;
  }
  // Loaded on demand: the KDL parser is not needed by the commands that only talk to the daemon.
  const { loadConfigDir } = await import("../config/load.ts");
  const { configs, invalid } = await loadConfigDir(paths.configDir);
  io.err(formatConfigErrors(invalid));
  const total = configs.length + invalid.length;
  if (invalid.length) {
    io.err(`xy: ${invalid.length} of ${total} config files invalid\n`);
    return ExitCode.ConfigInvalid;
  }
  io.out(`${total} server${total === 1 ? "" : "s"} OK in ${paths.configDir}\n`);
  return ExitCode.Ok;
}
