/**
 * xy's servers merged into a client's file (SPEC §12, `mcp-config --write`),
 * pure: text in, text out. Each server gets one entry pointing at xy — its
 * URL and token header, or `xy connect <name>` for a client that takes only
 * commands — in place of the entry that starts the server itself (the same
 * name, or the same command and arguments); every other entry and key stays
 * as it was, comments included. What is already as it should be is left
 * alone, so a second run changes nothing.
 */
import {
  applyEdits,
  createScanner,
  findNodeAtLocation,
  type FormattingOptions,
  modify,
  parseTree,
} from "jsonc-parser";
import { type ClientSpec, tokenVar } from "./clients.ts";
import { type ClientEntry, type ClientFile, position } from "./read.ts";
import { asRecord } from "./records.ts";
import { resolvePath } from "../resolve_path.ts";
import { dirname } from "../../daemon/paths.ts";

/** One of xy's servers, as a client's entry is made of it. */
export interface XyServer {
  readonly name: string;
  readonly url: string;
  readonly transport: "streamable-http" | "sse";
  /** Its bearer token, when its endpoint asks for one. */
  readonly token?: string;
  /** Its command and arguments: the entry that started it in the client is found by them. */
  readonly command: string;
  readonly args: readonly string[];
}

/** What a merge is made with. */
export interface MergeOptions {
  /** A project's file, which people commit: the token is referred to, never written. */
  readonly project: boolean;
  /** How a commands-only client runs `xy connect <name>`. */
  connect(name: string): { command: string; args: string[]; env?: Record<string, string> };
}

/** A merge's outcome. */
export interface Merged {
  readonly text: string;
  /** Servers whose entry was added or replaced. */
  readonly written: readonly string[];
  /** Entries of another name replaced by a server's: [their name, the server's]. */
  readonly renamed: readonly (readonly [string, string])[];
  /** Servers whose entry was as it should be already. */
  readonly unchanged: readonly string[];
  /** Comments the merge drops (they sat inside an entry it replaces), as `line N`. */
  readonly droppedComments: readonly string[];
}

/** The entry `spec`'s client is given for `s`. */
export function entryFor(
  spec: ClientSpec,
  s: XyServer,
  opts: MergeOptions,
): Record<string, unknown> {
  if (spec.commandsOnly) {
    const c = opts.connect(s.name);
    return { command: c.command, args: c.args, ...(c.env ? { env: c.env } : {}) };
  }
  return spec.remote({
    url: s.url,
    transport: s.transport,
    ...(s.token === undefined
      ? {}
      : opts.project
      ? { tokenVar: tokenVar(s.name) }
      : { authorization: `Bearer ${s.token}` }),
  });
}

/** The entry of `file` that is server `s`: the same name, else the same command and arguments. */
function matchOf(
  file: ClientFile,
  s: XyServer,
  claimed: ReadonlySet<string>,
): ClientEntry | undefined {
  const byName = file.entries.find((e) => e.name === s.name);
  if (byName) return byName;
  const dir = dirname(file.path);
  return file.entries.find((e) =>
    !claimed.has(e.name) && e.command !== undefined &&
    (e.command === s.command ||
      (e.command.includes("/") && resolvePath(e.command, e.cwd ?? dir) === s.command)) &&
    e.args.length === s.args.length && e.args.every((a, i) => a === s.args[i])
  );
}

/** Deep equality of JSON values, key order aside. */
function same(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length &&
      a.every((x, i) => same(x, b[i]));
  }
  const ra = asRecord(a);
  const rb = asRecord(b);
  if (ra || rb) {
    if (!ra || !rb) return false;
    const ka = Object.keys(ra);
    return ka.length === Object.keys(rb).length && ka.every((k) => k in rb && same(ra[k], rb[k]));
  }
  return a === b;
}

/** How `text` indents: tabs, or its first indentation's width in spaces (2 when it has none). */
function formatting(text: string): FormattingOptions {
  const m = /\n([ \t]+)\S/.exec(text);
  if (m?.[1]?.startsWith("\t")) return { insertSpaces: false, tabSize: 1, eol: "\n" };
  return { insertSpaces: true, tabSize: m?.[1]?.length ?? 2, eol: "\n" };
}

/**
 * Walks `servers` over `file`: each one's entry, the entry of the file that is
 * it (if any), and whether that one is as it should be already. `replace`
 * puts the entry in place (of the match, when there is one) and says which
 * comments it drops; the rest is the same for every format.
 */
function walk(
  file: ClientFile,
  spec: ClientSpec,
  servers: readonly XyServer[],
  opts: MergeOptions,
  replace: (s: XyServer, want: Record<string, unknown>, match: ClientEntry | undefined) => string[],
): Omit<Merged, "text"> {
  const claimed = new Set<string>();
  const written: string[] = [];
  const renamed: [string, string][] = [];
  const unchanged: string[] = [];
  const dropped: string[] = [];
  const table = asRecord(file.data[file.key]) ?? {};
  for (const s of servers) {
    const want = entryFor(spec, s, opts);
    const match = matchOf(file, s, claimed);
    if (match) claimed.add(match.name);
    if (match?.name === s.name && same(table[s.name], want)) {
      unchanged.push(s.name);
      continue;
    }
    dropped.push(...replace(s, want, match));
    if (match && match.name !== s.name) renamed.push([match.name, s.name]);
    written.push(s.name);
  }
  return { written, renamed, unchanged, droppedComments: dropped };
}

/** The servers merged into a JSON file (with comments, where the client allows them). */
export function mergeJson(
  file: ClientFile,
  spec: ClientSpec,
  servers: readonly XyServer[],
  opts: MergeOptions,
): Merged {
  let text = file.text.trim() === "" ? "{}\n" : file.text;
  const formattingOptions = formatting(text);
  const done = walk(file, spec, servers, opts, (s, want, match) => {
    const dropped = match ? commentsIn(text, [file.key, match.name]) : [];
    if (match && match.name !== s.name) {
      text = applyEdits(
        text,
        modify(text, [file.key, match.name], undefined, { formattingOptions }),
      );
    }
    text = applyEdits(text, modify(text, [file.key, s.name], want, { formattingOptions }));
    return dropped;
  });
  if (!text.endsWith("\n")) text += "\n";
  return { ...done, text: done.written.length ? text : file.text };
}

/** jsonc-parser's token kinds (a const enum, which isolated modules cannot read). */
const COMMENT_TOKENS = new Set([12, 13]); // LineCommentTrivia, BlockCommentTrivia
const EOF_TOKEN = 17;

/** The comments inside the value at `path` of `text`, as `line N`. */
function commentsIn(text: string, path: string[]): string[] {
  const node = findNodeAtLocation(parseTree(text)!, path);
  const property = node?.parent;
  if (!property) return [];
  const start = property.offset;
  const end = property.offset + property.length;
  const scanner = createScanner(text.slice(start, end), false);
  const found: string[] = [];
  for (let k: number = scanner.scan(); k !== EOF_TOKEN; k = scanner.scan()) {
    if (COMMENT_TOKENS.has(k)) {
      found.push(`line ${position(text, start + scanner.getTokenOffset()).line}`);
    }
  }
  return found;
}

/** A TOML key: bare when it may be, quoted otherwise. */
function tomlKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
}

/** A TOML value of what entries hold: strings, arrays of them, tables of them. */
function tomlValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(tomlValue).join(", ")}]`;
  const r = asRecord(v);
  if (r) {
    return `{ ${Object.entries(r).map(([k, x]) => `${tomlKey(k)} = ${tomlValue(x)}`).join(", ")} }`;
  }
  return JSON.stringify(v);
}

/** The lines of a TOML table `[key.name]` holding `entry`. */
function tomlBlock(key: string, name: string, entry: Record<string, unknown>): string[] {
  return [
    `[${key}.${tomlKey(name)}]`,
    ...Object.entries(entry).map(([k, v]) => `${tomlKey(k)} = ${tomlValue(v)}`),
  ];
}

/** The `[key.name]` table of `lines` and its subtables: where it starts and ends (exclusive). */
function tomlTable(
  lines: string[],
  key: string,
  name: string,
): { from: number; to: number } | undefined {
  const header = /^\s*\[\s*([^\]]+?)\s*\]\s*(#.*)?$/;
  const own = (h: string) => {
    const parts = splitKey(h);
    return parts.length >= 2 && parts[0] === key && parts[1] === name;
  };
  const from = lines.findIndex((l) => {
    const m = header.exec(l);
    return m !== null && !l.trim().startsWith("[[") && own(m[1]!) && splitKey(m[1]!).length === 2;
  });
  if (from < 0) return undefined;
  let to = from + 1;
  for (; to < lines.length; to++) {
    const m = header.exec(lines[to]!);
    if (m && !own(m[1]!)) break;
  }
  // Blank lines and comments just before the next table belong to it.
  while (to > from + 1 && /^\s*(#.*)?$/.test(lines[to - 1]!)) to--;
  return { from, to };
}

/** A dotted TOML key's parts, quotes taken off. */
function splitKey(key: string): string[] {
  const parts: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*(?:\.|$)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(key)) !== null && m[0] !== "") {
    parts.push(m[1] !== undefined ? JSON.parse(`"${m[1]}"`) : m[2] ?? m[3]!);
    if (re.lastIndex >= key.length) break;
  }
  return parts;
}

/** The servers merged into a TOML file (Codex's): each as its own `[mcp_servers.<name>]` table. */
export function mergeToml(
  file: ClientFile,
  spec: ClientSpec,
  servers: readonly XyServer[],
  opts: MergeOptions,
): Merged {
  const lines = file.text === "" ? [] : file.text.replace(/\n$/, "").split("\n");
  const done = walk(file, spec, servers, opts, (s, want, match) => {
    const block = tomlBlock(file.key, s.name, want);
    const at = match ? tomlTable(lines, file.key, match.name) : undefined;
    if (match && !at) {
      throw new Error(
        `${file.path}: the entry "${match.name}" is not a [${file.key}.${match.name}] table; ` +
          `xy replaces only those: edit it by hand`,
      );
    }
    if (!at) {
      if (lines.length && lines.at(-1)!.trim() !== "") lines.push("");
      lines.push(...block);
      return [];
    }
    const dropped: string[] = [];
    for (let i = at.from; i < at.to; i++) {
      if (/^\s*#/.test(lines[i]!) || /\s#/.test(lines[i]!.replace(/"(?:[^"\\]|\\.)*"/g, ""))) {
        dropped.push(`line ${i + 1}`);
      }
    }
    lines.splice(at.from, at.to - at.from, ...block);
    return dropped;
  });
  return { ...done, text: done.written.length ? `${lines.join("\n")}\n` : file.text };
}
