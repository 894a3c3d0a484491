/**
 * `xy mcp-config --client CLIENT --write` (SPEC §12): the client's file
 * merged (merge.ts) and written with care — a timestamped backup beside it
 * first (never over an older one), the new file 0600 and put in place
 * atomically, refused if the client changed the file meanwhile; a file that
 * does not parse is left alone, and one whose comments a write would drop
 * needs `--force`. `--dry-run` prints the change instead.
 */
import { errorMessage } from "../../error_message.ts";
import { ExitCode } from "../../protocol/failures.ts";
import type { Io } from "../io.ts";
import { dirname } from "../../daemon/paths.ts";
import { type ClientName, CLIENTS, type Home, tokenVar } from "./clients.ts";
import { lineDiff } from "./diff.ts";
import { mergeJson, type MergeOptions, mergeToml, type XyServer } from "./merge.ts";
import { ClientFileError, parseClientFile } from "./read.ts";

/** What `--write` is asked. */
export interface WriteRequest {
  readonly client: ClientName;
  /** The project's file in this directory, instead of the user's. */
  readonly project?: string;
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly home: Home;
  readonly servers: readonly XyServer[];
  readonly connect: MergeOptions["connect"];
}

/** `YYYYMMDD-HHMMSS` of `d`, in UTC. */
function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

/** Copies `file` to a backup beside it, never over one that exists; its path. */
async function backup(file: string, text: string, now: Date): Promise<string> {
  for (let n = 1;; n++) {
    const path = `${file}.xy-backup-${stamp(now)}${n === 1 ? "" : `-${n}`}`;
    try {
      await Deno.writeTextFile(path, text, { createNew: true, mode: 0o600 });
      return path;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
  }
}

/** Merges xy's servers into the client's file; the exit code. */
export async function writeClientFile(req: WriteRequest, io: Io): Promise<number> {
  const spec = CLIENTS[req.client];
  if (req.project && !spec.projectFile) {
    io.err(`xy: ${req.client} has no project file; write its user file (without --project)\n`);
    return ExitCode.Usage;
  }
  const path = req.project ? spec.projectFile!(req.project) : spec.userFile(req.home);
  let original = "";
  try {
    original = await Deno.readTextFile(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  let merged;
  try {
    const file = parseClientFile(path, original, spec.format, spec.key);
    const opts = { project: req.project !== undefined, connect: req.connect };
    merged = spec.format === "toml"
      ? mergeToml(file, spec, req.servers, opts)
      : mergeJson(file, spec, req.servers, opts);
  } catch (e) {
    if (e instanceof ClientFileError) {
      io.err(`xy: ${e.message}\n`);
      return ExitCode.Error;
    }
    io.err(`xy: ${errorMessage(e)}\n`);
    return ExitCode.Error;
  }
  if (merged.written.length === 0) {
    io.out(`unchanged: ${path} (${merged.unchanged.join(", ")} point at xy already)\n`);
    return ExitCode.Ok;
  }
  const renamed = merged.renamed.map(([from, to]) => `"${from}" → ${to}`);
  const what = `${merged.written.join(", ")}${
    renamed.length ? ` (replacing ${renamed.join(", ")})` : ""
  }`;
  const drops = merged.droppedComments.length
    ? `writing ${path} would drop comments (${merged.droppedComments.join(", ")}) inside ` +
      `the entries xy replaces; --force writes it anyway (a backup is kept)`
    : null;
  if (req.dryRun) {
    io.out(`would write ${path}: ${what}\n${lineDiff(original, merged.text)}`);
    if (drops && !req.force) io.err(`xy: note: ${drops}\n`);
    return ExitCode.Ok;
  }
  if (drops && !req.force) {
    io.err(`xy: ${drops}\n`);
    return ExitCode.Error;
  }
  const dir = dirname(path);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const saved = original === "" ? null : await backup(path, original, new Date());
  const tmp = `${dir}/.${path.slice(dir.length + 1)}.xy-${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(tmp, merged.text, { mode: 0o600 });
  try {
    // A client that rewrites its file while it runs would lose its change, or xy its own.
    const now = await Deno.readTextFile(path).catch((e) => {
      if (e instanceof Deno.errors.NotFound) return "";
      throw e;
    });
    if (now !== original) {
      io.err(
        `xy: ${path} changed while xy worked on it (does the client rewrite it?); run again\n`,
      );
      return ExitCode.Error;
    }
    await Deno.rename(tmp, path);
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
  io.out(`wrote ${path}: ${what}\n`);
  if (saved) io.out(`backup: ${saved}\n`);
  if (req.project) {
    const needs = req.servers.filter((s) =>
      s.token !== undefined && merged.written.includes(s.name)
    );
    if (needs.length) {
      io.out(
        `the file refers to each token by a variable (it is a project's: no token in it); ` +
          `set them where the client starts:\n`,
      );
      for (const s of needs) io.out(`  export ${tokenVar(s.name)}=${s.token}\n`);
    }
  }
  return ExitCode.Ok;
}
