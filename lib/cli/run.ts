/** The CLI: parses argv, runs the command, and turns every error into its exit code. */
import type { DaemonClient } from "../daemon/client.ts";
import { resolvePaths } from "../daemon/paths.ts";
import { DaemonUnreachableError, RpcError } from "../rpc/errors.ts";
import { errorMessage } from "../error_message.ts";
import { ExitCode, exitCodeForRpc } from "../protocol/failures.ts";
import { UsageError } from "./usage_error.ts";
import { parseArgv } from "./args.ts";
import type { Context } from "./command.ts";
import { connectOrStart } from "./connect.ts";
import { denoIo, type Io } from "./io.ts";

/** Runs one command line; never throws. */
export async function run(argv: readonly string[], io: Io = denoIo): Promise<number> {
  const fail = (code: number, message: string) => {
    io.err(`xy: ${message}\n`);
    return code;
  };
  let client: Promise<DaemonClient> | undefined;
  try {
    const parsed = parseArgv(argv);
    const paths = resolvePaths(parsed.paths, io.env);
    const ctx: Context = {
      paths,
      io,
      style: { color: io.isTerminal && io.env("NO_COLOR") === undefined },
      client: () =>
        client ??= connectOrStart(paths, { autostart: io.env("XY_NO_AUTOSTART") !== "1" })
          .then((c) => c.client),
    };
    return await parsed.run(ctx);
  } catch (e) {
    if (e instanceof UsageError) return fail(ExitCode.Usage, e.message);
    if (e instanceof DaemonUnreachableError) return fail(ExitCode.Unreachable, e.message);
    if (e instanceof RpcError) return fail(exitCodeForRpc(e.code), e.message);
    // Everything else (another daemon running, a socket path too long, …) is an operational error.
    return fail(ExitCode.Error, errorMessage(e));
  } finally {
    await (await client?.catch(() => undefined))?.close();
  }
}
