/**
 * The MCP clients xy reads servers from and writes its servers into (SPEC
 * §12): where each keeps its servers, in which format and under which key,
 * how it spells a remote server and an environment reference. Pure: paths
 * come from a {@link Home}.
 */

/** The clients xy knows, by the name `--client` and `--from` take. */
export const CLIENT_NAMES = [
  "claude-desktop",
  "cursor",
  "vscode",
  "claude-code",
  "windsurf",
  "gemini",
  "codex",
] as const;

export type ClientName = typeof CLIENT_NAMES[number];

/** Where a user's files are: their home, OS and XDG config home. */
export interface Home {
  readonly home: string;
  readonly os: typeof Deno.build.os;
  /** `$XDG_CONFIG_HOME`, when set. */
  readonly xdgConfigHome?: string;
  /** `$CODEX_HOME`, when set. */
  readonly codexHome?: string;
}

/** How a client's file spells one remote server of xy's. */
export interface Remote {
  readonly url: string;
  /** The `Authorization` header's value (`Bearer …`), if it takes one. */
  readonly authorization?: string;
  /** A project file's: the environment variable that holds the token, instead of the token. */
  readonly tokenVar?: string;
  readonly transport: "streamable-http" | "sse";
}

/** One client. */
export interface ClientSpec {
  readonly name: ClientName;
  /** Its file format: JSON (comments allowed where the client allows them) or TOML. */
  readonly format: "json" | "toml";
  /** The user's file. */
  userFile(h: Home): string;
  /** A project's file, when the client reads one. */
  projectFile?(dir: string): string;
  /** The key of the table of servers. */
  readonly key: string;
  /** Its file takes commands only: xy's servers are written as `xy connect <name>`. */
  readonly commandsOnly?: boolean;
  /** An environment variable reference, in its own syntax (a project's token). */
  envRef(name: string): string;
  /** The entry of a remote server (not for a commands-only client). */
  remote(r: Remote): Record<string, unknown>;
}

/** The `headers` of a remote entry: the token itself, or a reference to the variable holding it. */
function headers(r: Remote, ref: (v: string) => string): Record<string, unknown> {
  if (r.tokenVar) return { headers: { Authorization: `Bearer ${ref(r.tokenVar)}` } };
  return r.authorization ? { headers: { Authorization: r.authorization } } : {};
}

/** The user's config dir: `~/Library/Application Support` on macOS, `$XDG_CONFIG_HOME` or `~/.config` elsewhere. */
function appConfig(h: Home): string {
  return h.os === "darwin"
    ? `${h.home}/Library/Application Support`
    : h.xdgConfigHome || `${h.home}/.config`;
}

const vscodeRef = (v: string) => `\${env:${v}}`;
const claudeRef = (v: string) => `\${${v}}`;

/** Every client, by name. */
export const CLIENTS: Readonly<Record<ClientName, ClientSpec>> = {
  "claude-desktop": {
    name: "claude-desktop",
    format: "json",
    userFile: (h) => `${appConfig(h)}/Claude/claude_desktop_config.json`,
    key: "mcpServers",
    commandsOnly: true,
    envRef: claudeRef,
    remote: () => {
      throw new Error("claude-desktop takes commands only");
    },
  },
  cursor: {
    name: "cursor",
    format: "json",
    userFile: (h) => `${h.home}/.cursor/mcp.json`,
    projectFile: (dir) => `${dir}/.cursor/mcp.json`,
    key: "mcpServers",
    envRef: vscodeRef,
    remote: (r) => ({ url: r.url, ...headers(r, vscodeRef) }),
  },
  vscode: {
    name: "vscode",
    format: "json",
    userFile: (h) => `${appConfig(h)}/Code/User/mcp.json`,
    projectFile: (dir) => `${dir}/.vscode/mcp.json`,
    key: "servers",
    envRef: vscodeRef,
    remote: (r) => ({
      type: r.transport === "sse" ? "sse" : "http",
      url: r.url,
      ...headers(r, vscodeRef),
    }),
  },
  "claude-code": {
    name: "claude-code",
    format: "json",
    userFile: (h) => `${h.home}/.claude.json`,
    projectFile: (dir) => `${dir}/.mcp.json`,
    key: "mcpServers",
    envRef: claudeRef,
    remote: (r) => ({
      type: r.transport === "sse" ? "sse" : "http",
      url: r.url,
      ...headers(r, claudeRef),
    }),
  },
  windsurf: {
    name: "windsurf",
    format: "json",
    userFile: (h) => `${h.home}/.codeium/windsurf/mcp_config.json`,
    key: "mcpServers",
    envRef: vscodeRef,
    remote: (r) => ({ serverUrl: r.url, ...headers(r, vscodeRef) }),
  },
  gemini: {
    name: "gemini",
    format: "json",
    userFile: (h) => `${h.home}/.gemini/settings.json`,
    projectFile: (dir) => `${dir}/.gemini/settings.json`,
    key: "mcpServers",
    envRef: (v) => `$${v}`,
    // httpUrl: streamable HTTP; url: the HTTP+SSE transport.
    remote: (r) => ({
      [r.transport === "sse" ? "url" : "httpUrl"]: r.url,
      ...headers(r, (v) => `$${v}`),
    }),
  },
  codex: {
    name: "codex",
    format: "toml",
    userFile: (h) => `${h.codexHome || `${h.home}/.codex`}/config.toml`,
    projectFile: (dir) => `${dir}/.codex/config.toml`,
    key: "mcp_servers",
    envRef: (v) => v,
    remote: (r) => ({
      url: r.url,
      ...(r.tokenVar
        ? { bearer_token_env_var: r.tokenVar }
        : r.authorization
        ? { http_headers: { Authorization: r.authorization } }
        : {}),
    }),
  },
};

/** The variable a project's client reads server `name`'s token from. */
export function tokenVar(name: string): string {
  return `XY_TOKEN_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}
