/**
 * The wire shapes of the control protocol (snake_case, as on the socket), and
 * the method map that both the client and the daemon are typed by. Described
 * for client authors in docs/PROTOCOL.md.
 */

/** Bumped whenever a method or a result changes shape. */
export const PROTOCOL_VERSION = 2;

/** A state as shown to clients; `invalid` and `blocked` come from the daemon, not an actor. */
export type WireState =
  | "stopped"
  | "starting"
  | "running"
  | "restarting"
  | "stopping"
  | "failed"
  | "invalid"
  | "blocked";

/** How a process last ended. */
export interface WireExit {
  readonly code: number | null;
  readonly signal: string | null;
  readonly at_unix_ms: number;
}

/** One row of `list`. */
export interface ServerSummary {
  readonly name: string;
  readonly state: WireState;
  readonly pid?: number;
  readonly port: number;
  readonly url?: string;
  readonly uptime_secs?: number;
  readonly restart_count: number;
  readonly last_exit?: number;
  readonly last_signal?: string;
  /** With health checks: `unknown`, `healthy`, `unhealthy` or `needs-auth`. */
  readonly health?: WireHealth;
  /** The probe's kind, and how long the last one took. */
  readonly health_kind?: "mcp" | "http" | "tcp" | "stdio";
  readonly health_latency_ms?: number;
  /** Why a `blocked` server waits. */
  readonly blocked_by?: string;
  /**
   * Its config file no longer loads (it runs as the last valid one said):
   * the file's errors, one per line.
   */
  readonly config_error?: string;
  /** With an `mcp` check that has succeeded: the transport its endpoint speaks. */
  readonly transport?: "streamable-http" | "sse";
  /**
   * While it has a run: what its processes cost — CPU as a percentage of one
   * core since the previous sample, resident memory, and how many there are.
   */
  readonly cpu_percent?: number;
  readonly rss_bytes?: number;
  readonly processes?: number;
}

/** What the probes say of a server. */
export type WireHealth = "unknown" | "healthy" | "unhealthy" | "needs-auth";

/** The last probe of a server. */
export interface WireProbe {
  readonly at_unix_ms: number;
  readonly latency_ms: number;
  readonly ok: boolean;
  readonly message: string;
}

/** What an MCP server said of itself in the last handshake. */
export interface WireMcp {
  readonly name: string;
  readonly version: string;
  readonly protocol_version: string;
  /**
   * How the handshake reached it: `streamable-http`, `sse` (the HTTP+SSE
   * transport of 2024-11-05), or `stdio` (a stdio server, which xy serves over
   * streamable HTTP).
   */
  readonly transport: "streamable-http" | "sse" | "stdio";
}

/** A dependency a blocked server waits for; a blocked one says what it waits for in turn. */
export interface WireWaiting {
  readonly name: string;
  readonly state: string;
  readonly waiting_for?: readonly WireWaiting[];
}

/** A transition as shown by `status`. */
export interface WireTransition {
  readonly from: string;
  readonly to: string;
  readonly at_unix_ms: number;
  readonly reason: string;
}

/** `status` result: the summary and everything else known about the server. */
export interface StatusDetail extends ServerSummary {
  /**
   * Up, as `start --wait` means it: running and ready — with health checks,
   * its probe passed and it is not unhealthy; without, it has stayed alive
   * for a second.
   */
  readonly ready: boolean;
  readonly since_unix_ms?: number;
  readonly last_exit_detail?: WireExit;
  readonly last_error?: string;
  readonly retry_at_unix_ms?: number;
  readonly transitions: readonly WireTransition[];
  readonly stderr_tail: readonly string[];
  readonly log_file: string;
  readonly log_write_errors: number;
  readonly config_file: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env_names: readonly string[];
  readonly working_dir?: string;
  readonly autostart: boolean;
  readonly depends_on: readonly string[];
  readonly policy: string;
  /** The server's health block, when it has one. */
  readonly health_check?: {
    readonly kind: "mcp" | "http" | "tcp" | "stdio";
    readonly path?: string;
    readonly interval_ms: number;
    readonly timeout_ms: number;
    readonly retries: number;
    readonly start_period_ms: number;
  };
  readonly last_probe?: WireProbe;
  readonly mcp?: WireMcp;
  /** While `blocked`: the dependencies not up yet, each with the state it shows. */
  readonly waiting_for?: readonly WireWaiting[];
  /** A stdio server's endpoint: its open sessions and the requests in flight on its child. */
  readonly stdio?: WireStdio;
}

/** What a stdio server's endpoint holds: sessions, each with its client, and requests in flight. */
export interface WireStdio {
  readonly sharing: "shared" | "per-session";
  readonly auth: "token" | "none";
  readonly sessions: readonly {
    readonly id: string;
    readonly client: string | null;
    readonly protocol_version: string;
    readonly inflight: number;
    /** Per-session: the pid of the session's process, null while it has none (idle). */
    readonly pid?: number | null;
  }[];
  readonly inflight: number;
}

/** `daemon_info` result. */
export interface DaemonInfo {
  readonly version: string;
  readonly protocol_version: number;
  readonly pid: number;
  readonly started_at: string;
  readonly socket: string;
  readonly config_dir: string;
  readonly state_dir: string;
  /** How supervisors are hosted: one Web Worker each, or all on the daemon's thread. */
  readonly isolation: "worker" | "inline";
}

/** An entry of `reload`'s `invalid` list, also used for files that never loaded. */
export interface WireInvalid {
  readonly name: string;
  readonly file: string;
  readonly error: string;
}

/** Which servers a lifecycle request is for: exactly one of the three. */
export type Targets =
  | { readonly name: string }
  | { readonly names: readonly string[] }
  | { readonly all: true };

/**
 * `start` result. `started` includes the dependencies started first; a
 * server whose dependencies are not up yet is `blocked` and starts once they are.
 */
export interface StartResult {
  readonly started: string[];
  readonly already_running: string[];
  /** Those on their way up already: spawned, and not ready yet. */
  readonly starting: string[];
  readonly blocked: string[];
}

/** `stop` result. `dependents`: the servers stopped first because they depend on those named. */
export interface StopResult {
  readonly stopped: string[];
  readonly not_running: string[];
  readonly dependents: string[];
}

/** `restart` result: as `start`'s, with the servers restarted. */
export interface RestartResult {
  readonly restarted: string[];
  readonly started: string[];
  readonly blocked: string[];
}

/**
 * The `data` of a lifecycle request's error when some of its servers failed:
 * the lists of the result for those that did not, and each failure.
 */
export type PartialFailure = Partial<StartResult & StopResult & RestartResult> & {
  readonly failed: readonly {
    readonly name: string;
    readonly code: number;
    readonly message: string;
  }[];
};

/**
 * `reload` params: `names` reads only those servers' files (an added, changed
 * or removed file each; the others are left as they are), and `start: false`
 * registers added servers without starting them.
 */
export interface ReloadParams {
  readonly names?: readonly string[];
  readonly start?: boolean;
}

/** `reload` result. */
export interface ReloadResult {
  readonly added: string[];
  readonly removed: string[];
  readonly changed: string[];
  readonly unchanged: string[];
  readonly invalid: WireInvalid[];
}

/** A pipe of a server's output. */
export type WireStream = "stdout" | "stderr";

/** `logs` params. */
export interface LogsParams {
  readonly name: string;
  readonly tail?: number;
  readonly follow?: boolean;
  readonly stream?: WireStream;
}

/** An empty object, the result of methods that only acknowledge. */
export type Empty = Record<string, never>;

/** Every method: its params (undefined: none) and its result. */
export interface Methods {
  readonly list: { params: undefined; result: ServerSummary[] };
  readonly status: { params: { readonly name: string }; result: StatusDetail };
  readonly start: { params: Targets; result: StartResult };
  readonly stop: { params: Targets; result: StopResult };
  readonly restart: { params: Targets; result: RestartResult };
  readonly reload: { params: ReloadParams | undefined; result: ReloadResult };
  readonly logs: { params: LogsParams; result: { readonly subscription_id: string } };
  readonly logs_cancel: { params: { readonly subscription_id: string }; result: Empty };
  readonly daemon_info: { params: undefined; result: DaemonInfo };
  /** A stdio server's bearer token (null when it takes none: `auth "none"`, or not stdio). */
  readonly token: { params: { readonly name: string }; result: { readonly token: string | null } };
  readonly shutdown: { params: undefined; result: Empty };
}

/** A method's name. */
export type MethodName = keyof Methods;

/** Every notification the daemon sends, by method. */
export interface Notifications {
  readonly log: {
    readonly subscription_id: string;
    readonly name: string;
    readonly stream: WireStream;
    readonly line: string;
    readonly ts_unix_ms: number;
  };
  readonly log_dropped: {
    readonly subscription_id: string;
    readonly name: string;
    readonly count: number;
  };
  /**
   * The end of a subscription: after the snapshot when not following; with
   * `reason` when its server was removed; with `error` when the snapshot
   * could not be sent whole.
   */
  readonly log_end: {
    readonly subscription_id: string;
    readonly name: string;
    readonly reason?: string;
    readonly error?: string;
  };
}

/** One notification, as a tagged union. */
export type Notification = {
  [N in keyof Notifications]: { readonly method: N; readonly params: Notifications[N] };
}[keyof Notifications];
