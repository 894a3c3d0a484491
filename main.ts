/**
 * xy: keeps your local MCP servers (and any long-running command) alive.
 *
 * ```sh
 * deno run -A main.ts daemon      # the daemon, in the foreground
 * deno run -A main.ts list        # what it supervises
 * ```
 *
 * @module
 */
import { run } from "./lib/cli/run.ts";

if (import.meta.main) {
  Deno.exit(await run(Deno.args));
}
