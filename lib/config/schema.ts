/** Validated server configuration and its defaults (README.md, "Configure a server"). */

/** When a server is restarted after its process exits. */
export type RestartPolicy = "always" | "on-failure" | "never";

/** The `restart { … }` block, durations in milliseconds. */
export interface RestartConfig {
  readonly policy: RestartPolicy;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly maxRetriesPerMinute: number;
  readonly resetAfterMs: number;
}

/**
 * The kind of readiness probe a server has: one it declares (`mcp`, `http`,
 * `tcp`), or `stdio` for a stdio MCP server, which xy asks itself (its
 * `initialize`, then `ping`s).
 */
export type HealthKind = "mcp" | "http" | "tcp" | "stdio";

/** The `health { … }` block. `path` is set for `mcp` and `http`. */
export interface HealthConfig {
  readonly kind: HealthKind;
  readonly path?: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly startPeriodMs: number;
}

/** The `logs { … }` block. */
export interface LogsConfig {
  readonly maxSizeBytes: number;
  readonly keep: number;
}

/** How a server is reached: it serves `port` itself (`http`), or xy serves its stdio there. */
export type Transport = "http" | "stdio";

/** Who a stdio server's child serves: every session (`shared`), or one each (`per-session`). */
export type Sharing = "shared" | "per-session";

/** The `stdio { … }` block of a `transport "stdio"` server (SPEC §11). */
export interface StdioConfig {
  readonly sharing: Sharing;
  /** Per-session: children at once; a session past them gets 503. */
  readonly maxSessions: number;
  /** Per-session: a child with no request and no open stream is stopped after this. */
  readonly sessionIdleMs: number;
  /** Also log every JSON-RPC message, cut to 4 KiB. */
  readonly logMessages: boolean;
  /** A bearer token per server (`token`), or none. */
  readonly auth: "token" | "none";
}

/** One server, decoded from `<config dir>/<name>.kdl`. */
export interface ServerConfig {
  readonly name: string;
  readonly file: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly port: number;
  readonly env: Readonly<Record<string, string>>;
  readonly workingDir?: string;
  readonly autostart: boolean;
  readonly dependsOn: readonly string[];
  readonly restart: RestartConfig;
  readonly stop: { readonly graceMs: number };
  /** Always set for a stdio server (kind `stdio`, its timings from the `health` block). */
  readonly health?: HealthConfig;
  readonly logs: LogsConfig;
  readonly transport: Transport;
  /** Set exactly when `transport` is `stdio`. */
  readonly stdio?: StdioConfig;
}

/** Defaults for every optional key, read in one place. */
export const DEFAULTS = {
  autostart: true,
  restart: {
    policy: "on-failure",
    backoffInitialMs: 1_000,
    backoffMaxMs: 30_000,
    maxRetriesPerMinute: 5,
    resetAfterMs: 10_000,
  } satisfies RestartConfig,
  stop: { graceMs: 10_000 },
  health: { intervalMs: 10_000, timeoutMs: 2_000, retries: 3, startPeriodMs: 30_000 },
  logs: { maxSizeBytes: 10 * 1024 * 1024, keep: 5 } satisfies LogsConfig,
  transport: "http",
  stdio: {
    sharing: "shared",
    maxSessions: 16,
    sessionIdleMs: 30 * 60_000,
    logMessages: false,
    auth: "token",
  } satisfies StdioConfig,
} as const;

/** Server names: the config file's stem. */
export const NAME_PATTERN = /^[a-z0-9_-]+$/;

/** Digit runs compared by value: the order people expect of s1, s2, s10. */
const NAME_ORDER = new Intl.Collator("en", { numeric: true });

/** Orders server names as a person would: `s2` before `s10`, then by code point. */
export function compareNames(a: string, b: string): number {
  return NAME_ORDER.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** True when `name` is a valid server name. */
export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name) && name.length <= 64;
}
