/** `xy reload`: what changed, and every invalid file's errors (exit 3). */
import type { DaemonClient } from "../daemon/client.ts";
import { ExitCode } from "../protocol/failures.ts";
import type { Io } from "./io.ts";

/** Asks the daemon to reload and prints its answer. */
export async function reload(client: DaemonClient, io: Io): Promise<number> {
  const r = await client.call("reload");
  for (const key of ["added", "removed", "changed", "unchanged"] as const) {
    io.out(`${key}: ${r[key].length ? r[key].join(", ") : "-"}\n`);
  }
  for (const f of r.invalid) io.err(`${f.error}\n`);
  if (r.invalid.length === 0) return ExitCode.Ok;
  const n = r.invalid.length;
  io.err(
    `xy: ${n} config file${n === 1 ? "" : "s"} invalid; their servers were left as they were\n`,
  );
  return ExitCode.ConfigInvalid;
}
