/** `xy config check`: every error of every file, without a daemon. */
import type { Paths } from "../daemon/paths.ts";
import { ExitCode } from "../protocol/failures.ts";
import type { Io } from "./io.ts";

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
  for (const f of invalid) for (const e of f.errors) io.err(`${e.message}\n`);
  const total = configs.length + invalid.length;
  if (invalid.length) {
    io.err(`xy: ${invalid.length} of ${total} config files invalid\n`);
    return ExitCode.ConfigInvalid;
  }
  io.out(`${total} server${total === 1 ? "" : "s"} OK in ${paths.configDir}\n`);
  return ExitCode.Ok;
}
