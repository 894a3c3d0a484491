/**
 * `xy import` (SPEC §12): the local servers of an MCP client's files become
 * xy's — one config per stdio entry, served by xy on a free port, as the
 * client ran it (command, args, env, working dir); what cannot be run as it
 * is, is named and skipped, never guessed: a remote URL, a name taken, a
 * placeholder only the client can fill.
 */
import { isValidName } from "../../config/schema.ts";
import { type NewServer, serverKdl } from "../../config/write.ts";
import { CLIENT_NAMES, type ClientName, CLIENTS, type Home } from "./clients.ts";
import {
  type ClientEntry,
  type ClientFile,
  ClientFileError,
  expand,
  parseClientFile,
} from "./read.ts";
import { errorMessage } from "../../error_message.ts";
import { resolvePath } from "../resolve_path.ts";
import { dirname } from "../../daemon/paths.ts";

/** Where an import reads from: a client's file, or any file given. */
export interface Source {
  readonly file: ClientFile;
  /** The client it belongs to, when known. */
  readonly client?: ClientName;
  /** The project's directory, for a project's file. */
  readonly project?: string;
}

/** One file an import writes. */
export interface Imported {
  readonly name: string;
  readonly from: string;
  readonly entry: string;
  readonly port: number;
  readonly text: string;
  readonly perSession: boolean;
}

/** What an import does: the files it writes, and what it says of the rest. */
export interface ImportPlan {
  readonly servers: readonly Imported[];
  readonly skipped: readonly string[];
  readonly notes: readonly string[];
}

/** What a plan is made with. */
export interface PlanContext {
  /** Server names that exist already (files in the config dir). */
  readonly existing: ReadonlySet<string>;
  /** Only these entries (by their name in the client's file), when given. */
  readonly only?: ReadonlySet<string>;
  readonly env: (name: string) => string | undefined;
  readonly home: string;
  /** A free port, none of those given before it. */
  choosePort(): Promise<number>;
  /** Reads a file (VS Code's envFile); undefined when it cannot. */
  readFile(path: string): string | undefined;
}

/** Servers that drive a browser: one browser for each client, so a child each. */
const BROWSER = /playwright|puppeteer/i;

/** A valid server name made of any name: lower case, `-` for what is not allowed. */
export function serverNameOf(name: string): string {
  const made = name.toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "")
    .slice(0, 64);
  return made || "server";
}

/** `KEY=value` lines of a dotenv file. */
function dotenv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    env[m[1]!] = m[2]!.replace(/^"(.*)"$/s, "$1").replace(/^'(.*)'$/s, "$1");
  }
  return env;
}

/** The plan of importing `sources`' entries. */
export async function planImport(
  sources: readonly Source[],
  ctx: PlanContext,
): Promise<ImportPlan> {
  const servers: Imported[] = [];
  const skipped: string[] = [];
  const notes: string[] = [];
  const taken = new Map<string, string>(); // name → where it came from in this import
  for (const { file, client, project } of sources) {
    const dir = dirname(file.path);
    const base = project ?? dir;
    for (const entry of file.entries) {
      const name = isValidName(entry.name) ? entry.name : serverNameOf(entry.name);
      if (ctx.only && !ctx.only.has(entry.name) && !ctx.only.has(name)) continue;
      const label = `${entry.name} (${file.path})`;
      if (!entry.command) {
        skipped.push(
          entry.url
            ? `${label}: a remote server (${entry.url}), nothing to run`
            : `${label}: no command`,
        );
        continue;
      }
      if (ctx.existing.has(name)) {
        skipped.push(`${label}: "${name}" exists already`);
        continue;
      }
      const before = taken.get(name);
      if (before) {
        skipped.push(`${label}: "${name}" is imported already, from ${before}`);
        continue;
      }
      const filled = fill(
        entry,
        {
          env: ctx.env,
          home: ctx.home,
          ...(project ? { project } : {}),
          bareDollar: client === "gemini",
        },
        base,
        ctx.readFile,
      );
      if ("missing" in filled) {
        skipped.push(`${label}: cannot fill ${filled.missing.join(", ")}`);
        continue;
      }
      if (name !== entry.name) notes.push(`"${entry.name}" is named ${name}`);
      const perSession = BROWSER.test([filled.command, ...filled.args].join(" "));
      const port = await ctx.choosePort();
      const spec: NewServer = {
        command: filled.command,
        args: filled.args,
        port,
        env: filled.env,
        ...(filled.workingDir ? { workingDir: filled.workingDir } : {}),
        stdio: perSession ? { sharing: "per-session" } : {},
        comment: [`Imported by xy from ${file.path} (${JSON.stringify(entry.name)}).`],
      };
      taken.set(name, file.path);
      servers.push({
        name,
        from: file.path,
        entry: entry.name,
        port,
        text: serverKdl(spec),
        perSession,
      });
    }
  }
  return { servers, skipped, notes };
}

/** An entry's values with their placeholders filled and its paths resolved, or what cannot be filled. */
function fill(
  entry: ClientEntry,
  ctx: Parameters<typeof expand>[1],
  base: string,
  readFile: (path: string) => string | undefined,
):
  | { command: string; args: string[]; env: Record<string, string>; workingDir?: string }
  | { missing: string[] } {
  const missing: string[] = [];
  const one = (text: string): string => {
    const r = expand(text, ctx);
    if ("missing" in r) {
      missing.push(...r.missing.filter((m) => !missing.includes(m)));
      return text;
    }
    return r.value;
  };
  let env: Record<string, string> = {};
  if (entry.envFile) {
    const path = resolvePath(one(entry.envFile), base);
    const text = readFile(path);
    if (text === undefined) missing.push(`envFile ${path} (not readable)`);
    else env = dotenv(text);
  }
  for (const [k, v] of Object.entries(entry.env)) env[k] = one(v);
  const args = entry.args.map(one);
  const cwd = entry.cwd === undefined ? undefined : resolvePath(one(entry.cwd), base);
  // A project's server runs in the project, as its client runs it.
  const workingDir = cwd ?? (ctx.project ? ctx.project : undefined);
  let command = one(entry.command!);
  if (command.includes("/") && !command.startsWith("/")) {
    command = resolvePath(command, workingDir ?? base);
  }
  if (missing.length) return { missing };
  return { command, args, env, ...(workingDir ? { workingDir } : {}) };
}

/** The sources of an import: `--from` a client or a file, or every client found; and `--project`. */
export async function sourcesOf(
  opts: { from?: string; project?: string },
  home: Home,
): Promise<{ sources: Source[]; missing: string[]; errors: string[] }> {
  const sources: Source[] = [];
  const missing: string[] = [];
  const errors: string[] = [];
  const read = async (path: string, format: "json" | "toml", key?: string) => {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      errors.push(`${path}: ${errorMessage(e)}`);
      return null;
    }
    try {
      return parseClientFile(path, text, format, key);
    } catch (e) {
      if (!(e instanceof ClientFileError)) throw e;
      errors.push(e.message);
      return null;
    }
  };
  const clients = opts.from === undefined
    ? [...CLIENT_NAMES]
    : (CLIENT_NAMES as readonly string[]).includes(opts.from)
    ? [opts.from as ClientName]
    : [];
  if (opts.from !== undefined && clients.length === 0) {
    const path = resolvePath(opts.from, Deno.cwd());
    const file = await read(path, path.endsWith(".toml") ? "toml" : "json");
    if (file === undefined) missing.push(path);
    else if (file) sources.push({ file, ...(opts.project ? { project: opts.project } : {}) });
    return { sources, missing, errors };
  }
  for (const name of clients) {
    const spec = CLIENTS[name];
    const paths: [string, string | undefined][] = [[spec.userFile(home), undefined]];
    if (opts.project && spec.projectFile) {
      paths.push([spec.projectFile(opts.project), opts.project]);
    }
    const absent: string[] = [];
    for (const [path, project] of paths) {
      const file = await read(path, spec.format, spec.key);
      if (file === undefined) absent.push(path);
      if (file) sources.push({ file, client: name, ...(project ? { project } : {}) });
    }
    // The client asked for has none of its files: say where they were looked for.
    if (opts.from !== undefined && absent.length === paths.length) missing.push(...absent);
  }
  return { sources, missing, errors };
}
