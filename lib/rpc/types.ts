/** The wire shapes of SPEC §7 (snake_case, as on the socket). */

/** Bumped whenever a method or a result changes shape. */
export const PROTOCOL_VERSION = 1;

/** A state as shown to clients; `invalid` and `blocked` come from the registry. */
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
  readonly health?: string;
}

/** A transition as shown by `status`. */
export interface WireTransition {
  readonly from: string;
  readonly to: string;
  readonly at_unix_ms: number;
  readonly reason: string;
}

/** `status` result: the summary and everything in SPEC §4's snapshot. */
export interface StatusDetail extends ServerSummary {
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
}

/** An entry of `reload`'s `invalid` list, also used for files that never loaded. */
export interface WireInvalid {
  readonly name: string;
  readonly file: string;
  readonly error: string;
}
