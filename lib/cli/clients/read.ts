/**
 * Reading an MCP client's file (SPEC §12): JSON (with comments and trailing
 * commas, as VS Code allows) or TOML (Codex), its table of servers, and each
 * entry as xy sees it. A file that does not parse is an error naming the file,
 * line and column, and is never written to. Placeholders in an entry are
 * filled where xy can (`expand`) and named where it cannot.
 */
import { parse as parseJsonc, type ParseError, printParseErrorCode } from "jsonc-parser";
import { parse as parseToml } from "smol-toml";
import { asRecord } from "./records.ts";

/** One server entry of a client's file, as it is written there. */
export interface ClientEntry {
  readonly name: string;
  readonly command?: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** A remote server's URL (`url`, `serverUrl`, `httpUrl`). */
  readonly url?: string;
  /** VS Code's file of environment variables. */
  readonly envFile?: string;
}

/** A client's file, parsed. */
export interface ClientFile {
  readonly path: string;
  readonly text: string;
  readonly format: "json" | "toml";
  /** The key of its table of servers. */
  readonly key: string;
  readonly data: Record<string, unknown>;
  readonly entries: readonly ClientEntry[];
}

/** A file that does not parse, or whose table of servers is not one. */
export class ClientFileError extends Error {
  override readonly name = "ClientFileError";
}

/** `text` of `path` parsed as `format`, its servers under `key` (found by itself when absent). */
export function parseClientFile(
  path: string,
  text: string,
  format: "json" | "toml",
  key?: string,
): ClientFile {
  const data = format === "toml" ? tomlOf(path, text) : jsonOf(path, text);
  const k = key ?? ["mcpServers", "servers", "mcp_servers"].find((c) => c in data) ?? "mcpServers";
  const table = data[k];
  if (table !== undefined && !asRecord(table)) {
    throw new ClientFileError(`${path}: "${k}" is not a table of servers`);
  }
  const entries: ClientEntry[] = [];
  for (const [name, v] of Object.entries(asRecord(table) ?? {})) {
    const e = asRecord(v);
    if (!e) continue;
    const str = (x: unknown) => (typeof x === "string" ? x : undefined);
    const url = str(e.url) ?? str(e.serverUrl) ?? str(e.httpUrl);
    const command = str(e.command);
    const cwd = str(e.cwd);
    const envFile = str(e.envFile);
    entries.push({
      name,
      ...(command === undefined ? {} : { command }),
      args: Array.isArray(e.args) ? e.args.map(String) : [],
      env: Object.fromEntries(
        Object.entries(asRecord(e.env) ?? {}).map(([k, v]) => [k, String(v)]),
      ),
      ...(cwd === undefined ? {} : { cwd }),
      ...(url === undefined ? {} : { url }),
      ...(envFile === undefined ? {} : { envFile }),
    });
  }
  return { path, text, format, key: k, data, entries };
}

function jsonOf(path: string, text: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  const errors: ParseError[] = [];
  const data = parseJsonc(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length) {
    const e = errors[0]!;
    const { line, column } = position(text, e.offset);
    throw new ClientFileError(
      `${path}:${line}:${column}: not JSON (${printParseErrorCode(e.error)}); left as it is`,
    );
  }
  const doc = asRecord(data);
  if (!doc) throw new ClientFileError(`${path}: not a JSON object; left as it is`);
  return doc;
}

function tomlOf(path: string, text: string): Record<string, unknown> {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (e) {
    const t = e as { line?: number; column?: number; message: string };
    const where = t.line ? `:${t.line}:${t.column ?? 1}` : "";
    const first = t.message.split("\n")[0]!;
    throw new ClientFileError(`${path}${where}: not TOML (${first}); left as it is`);
  }
}

/** The line and column (from 1) of `offset` in `text`. */
export function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

/** What placeholders are filled with. */
export interface ExpandContext {
  readonly env: (name: string) => string | undefined;
  readonly home: string;
  /** The project's directory (`${workspaceFolder}`), when a project's file is read. */
  readonly project?: string;
  /** `$NAME` without braces is a reference too (Gemini's files). */
  readonly bareDollar?: boolean;
}

/** `text` with its placeholders filled, or the ones xy cannot fill. */
export function expand(
  text: string,
  ctx: ExpandContext,
): { value: string } | { missing: string[] } {
  const missing: string[] = [];
  const fill = (whole: string, inner: string): string => {
    const got = placeholder(inner, ctx);
    if (got === undefined) missing.push(whole);
    return got ?? whole;
  };
  let value = text.replace(/\$\{([^}]*)\}/g, (whole, inner: string) => fill(whole, inner));
  if (ctx.bareDollar) {
    value = value.replace(
      /\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (whole, name: string) => fill(whole, name),
    );
  }
  return missing.length ? { missing } : { value };
}

/** What `${inner}` stands for, or undefined when xy cannot know. */
function placeholder(inner: string, ctx: ExpandContext): string | undefined {
  if (inner === "userHome") return ctx.home;
  if (inner === "workspaceFolder") return ctx.project;
  if (inner === "workspaceFolderBasename") return ctx.project?.split("/").at(-1);
  if (inner.startsWith("env:")) return ctx.env(inner.slice(4));
  // Claude Code's ${X} and ${X:-default}.
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s.exec(inner);
  if (m) return ctx.env(m[1]!) ?? m[2];
  return undefined; // ${input:…} and the like: asked of a person by the client.
}
