/**
 * `xy import`, for the command table: the options here, the work in
 * clients/import.ts, loaded when the command runs (its parsers are not for
 * the commands that only talk to the daemon).
 */
import { ExitCode } from "../protocol/failures.ts";
import { type AnyCommand, type Context, defineCommand } from "./command.ts";
import { CLIENT_NAMES, type Home } from "./clients/clients.ts";
import { resolvePath } from "./resolve_path.ts";
import { connectIfRunning } from "./connect.ts";
import type { Io } from "./io.ts";

/** A parsed `xy import`. */
interface ImportCommand {
  readonly kind: "import";
  readonly from?: string;
  readonly project?: string;
  readonly dryRun: boolean;
  readonly names: readonly string[];
}

/** Where the user's client files are, from the environment. */
export function homeOf(io: Io): Home {
  const home = io.env("HOME");
  if (!home) throw new Error("HOME is not set: the clients' files are found from it");
  const xdg = io.env("XDG_CONFIG_HOME");
  const codex = io.env("CODEX_HOME");
  return {
    home,
    os: Deno.build.os,
    ...(xdg ? { xdgConfigHome: xdg } : {}),
    ...(codex ? { codexHome: codex } : {}),
  };
}

export const importCommand: AnyCommand = defineCommand({
  name: "import",
  usage: ["import [--from CLIENT|FILE] [--project DIR] [--dry-run] [name…]"],
  summary: "bring an MCP client's local servers into xy",
  help: `Reads the MCP servers of your clients' files (every client's user file, or
--from one client or file; with --project, the project's file too) and writes
one config for each local server: a stdio entry becomes a transport "stdio"
server on a free port, run as the client ran it (command, args, env, working
dir); one that drives a browser (Playwright, Puppeteer) gets a child per session.
Remote URLs, names that exist, and entries with placeholders only the client can
fill (\${input:…}, an unset \${env:X}) are named and skipped. Names restrict it to
those entries. Clients: ${CLIENT_NAMES.join(", ")}.
Then: xy start <name…> --wait, and xy mcp-config --client CLIENT --write.`,
  options: {
    from: { type: "string", value: "CLIENT|FILE", help: "one client, or a file of one" },
    project: { type: "string", value: "DIR", help: "also the project's file in DIR" },
    "dry-run": { type: "boolean", help: "print the files it would write, write none" },
  },
  parse: ({ values, positionals }): ImportCommand => ({
    kind: "import",
    ...(values.from === undefined ? {} : { from: String(values.from) }),
    ...(values.project === undefined
      ? {}
      : { project: resolvePath(String(values.project), Deno.cwd()) }),
    dryRun: values["dry-run"] === true,
    names: positionals,
  }),
  run: (cmd, ctx) => runImport(cmd, ctx),
});

async function runImport(cmd: ImportCommand, ctx: Context): Promise<number> {
  const { planImport, sourcesOf } = await import("./clients/import.ts");
  const { choosePort, FileExistsError, portsNamed, writeServerFile } = await import(
    "./new_server.ts"
  );
  const { formatConfigErrors } = await import("./config_check.ts");
  const { io, paths } = ctx;
  const home = homeOf(io);
  const { sources, missing, errors } = await sourcesOf(cmd, home);
  for (const e of errors) io.err(`xy: ${e}\n`);
  if (missing.length) {
    io.err(`xy: no file ${missing.join(", ")}\n`);
    return ExitCode.Error;
  }
  if (sources.length === 0) {
    if (!errors.length) io.err("xy: no MCP client's file found (give one with --from)\n");
    return ExitCode.Error;
  }
  const existing = new Set<string>();
  try {
    for await (const e of Deno.readDir(paths.configDir)) {
      if (e.name.endsWith(".kdl")) existing.add(e.name.slice(0, -4));
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const taken = await portsNamed(paths.configDir);
  const plan = await planImport(sources, {
    existing,
    ...(cmd.names.length ? { only: new Set(cmd.names) } : {}),
    env: (k) => io.env(k),
    home: home.home,
    choosePort: async () => {
      const port = await choosePort(taken);
      taken.add(port);
      return port;
    },
    readFile: (path) => {
      try {
        return Deno.readTextFileSync(path);
      } catch {
        return undefined;
      }
    },
  });
  const imported: string[] = [];
  for (const s of plan.servers) {
    const file = `${paths.configDir}/${s.name}.kdl`;
    const how = `port ${s.port}${s.perSession ? "; per-session: a browser for each client" : ""}`;
    if (cmd.dryRun) {
      io.out(`would write ${file} (${how}):\n${s.text}\n`);
      continue;
    }
    try {
      const written = await writeServerFile(paths.configDir, s.name, s.text);
      if (written.invalid) {
        io.err(formatConfigErrors([written.invalid]));
        io.err(`xy: ${file} was not kept\n`);
        continue;
      }
    } catch (e) {
      if (!(e instanceof FileExistsError)) throw e;
      io.out(`skipped ${s.entry} (${s.from}): "${s.name}" exists already\n`);
      continue;
    }
    imported.push(s.name);
    io.out(`imported ${s.name}: ${file} (${how})\n`);
  }
  for (const n of plan.notes) io.out(`note: ${n}\n`);
  for (const s of plan.skipped) io.out(`skipped ${s}\n`);
  if (imported.length && !cmd.dryRun) {
    // Known to a daemon that runs, stopped until asked; one that does not reads them when it starts.
    const running = (await connectIfRunning(paths))?.client;
    if (running) {
      await running.call("reload", { names: imported, start: false });
      await running.close();
    }
    io.out(
      `next: xy start ${imported.join(" ")} --wait\n` +
        `then: xy mcp-config --client <client> --write, so your clients use them\n`,
    );
  }
  return errors.length ? ExitCode.Error : ExitCode.Ok;
}
