/**
 * A server's config file as a person would write it (SPEC §12): readable
 * KDL v2, one key a line, in the README's order — command, args, port, env,
 * working-dir, transport, stdio, health — with a comment on top saying where
 * it came from. Pure; `xy add` and `xy import` write what this makes, and
 * read it back through the decoder before they keep it.
 */

/** What a new server's file says. */
export interface NewServer {
  readonly command: string;
  readonly args: readonly string[];
  readonly port: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly workingDir?: string;
  /** A stdio server, served by xy at http://127.0.0.1:<port>/mcp. */
  readonly stdio?: { readonly sharing?: "shared" | "per-session" };
  /** A server that listens itself: the path of its MCP endpoint, probed. */
  readonly mcpPath?: string;
  /** Lines of the comment on top (where it came from). */
  readonly comment?: readonly string[];
}

/** The KDL text of `s`. */
export function serverKdl(s: NewServer): string {
  const lines: string[] = [...(s.comment ?? []).map((l) => `// ${l}`.trimEnd())];
  lines.push(`command ${kdlString(s.command)}`);
  if (s.args.length) lines.push(`args ${s.args.map(kdlString).join(" ")}`);
  lines.push(`port ${s.port}`);
  const env = Object.entries(s.env ?? {});
  if (env.length) {
    lines.push("env {");
    for (const [k, v] of env) lines.push(`    ${kdlName(k)} ${kdlString(v)}`);
    lines.push("}");
  }
  if (s.workingDir !== undefined) lines.push(`working-dir ${kdlString(s.workingDir)}`);
  if (s.stdio) {
    lines.push(`transport "stdio"`);
    if (s.stdio.sharing === "per-session") {
      lines.push("stdio {", `    sharing "per-session"`, "}");
    }
  }
  if (s.mcpPath !== undefined) lines.push("health {", `    mcp ${kdlString(s.mcpPath)}`, "}");
  return `${lines.join("\n")}\n`;
}

/** Characters a quoted KDL string spells with a backslash. */
const ESCAPES: Record<string, string> = {
  "\\": "\\\\",
  '"': '\\"',
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
};

/** `text` as a quoted KDL v2 string: every character it holds, control characters escaped. */
export function kdlString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ESCAPES[ch]) out += ESCAPES[ch];
    else if (
      code < 0x20 || code === 0x7f || code === 0xfeff || (code >= 0x2028 && code <= 0x2029)
    ) {
      out += `\\u{${code.toString(16)}}`;
    } else out += ch;
  }
  return `${out}"`;
}

/** KDL v2's keywords, which a bare node name may not be. */
const KEYWORDS = new Set(["true", "false", "null", "inf", "-inf", "nan"]);

/** A node name: bare when it is a plain identifier, quoted otherwise. */
function kdlName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name) && !KEYWORDS.has(name) ? name : kdlString(name);
}
