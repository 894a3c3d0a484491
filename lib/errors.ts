/**
 * The failures callers handle, and the one table that maps each to its
 * JSON-RPC code on the socket and its CLI exit code (docs/PROTOCOL.md).
 * Domain code throws {@link DomainError}; the daemon turns it into a JSON-RPC
 * error with {@link FAILURES}; the CLI turns the code back into an exit code.
 */

/** CLI exit codes. */
export const ExitCode = {
  Ok: 0,
  Error: 1,
  Unreachable: 2,
  ConfigInvalid: 3,
  Usage: 64,
} as const;

/** What a request on a server can fail with, each with its wire code and exit code. */
export const FAILURES = {
  ServerNotFound: { rpc: -32001, exit: ExitCode.Error },
  PortConflict: { rpc: -32002, exit: ExitCode.Error },
  ConfigInvalid: { rpc: -32003, exit: ExitCode.ConfigInvalid },
  AlreadyRunning: { rpc: -32004, exit: ExitCode.Error },
  NotRunning: { rpc: -32005, exit: ExitCode.Error },
  SpawnFailed: { rpc: -32006, exit: ExitCode.Error },
  /** The server's supervisor is gone (shut down, or its worker died). */
  Internal: { rpc: -32603, exit: ExitCode.Error },
} as const;

/** The name of a failure. */
export type Failure = keyof typeof FAILURES;

/** Every JSON-RPC error code xy sends: the failures above and the standard ones. */
export const RpcCode = {
  ServerNotFound: FAILURES.ServerNotFound.rpc,
  PortConflict: FAILURES.PortConflict.rpc,
  ConfigInvalid: FAILURES.ConfigInvalid.rpc,
  AlreadyRunning: FAILURES.AlreadyRunning.rpc,
  NotRunning: FAILURES.NotRunning.rpc,
  SpawnFailed: FAILURES.SpawnFailed.rpc,
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: FAILURES.Internal.rpc,
} as const;

/** A failure of a request on a server, named so the daemon can map it to its code. */
export class DomainError extends Error {
  override readonly name = "DomainError";
  constructor(readonly failure: Failure, message: string) {
    super(message);
  }
}

/** Names the server a request asked for when it does not exist, and the one perhaps meant. */
export function serverNotFound(name: string, meant?: string): DomainError {
  const hint = meant === undefined ? "" : ` (did you mean "${meant}"?)`;
  return new DomainError("ServerNotFound", `no server named "${name}"${hint}`);
}

/** A config error with its position: `alpha.kdl:3:6: port must be …`. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly detail: string,
  ) {
    super(`${file}:${line}:${column}: ${detail}`);
  }
}

/** Raised by the CLI when no daemon answers on the socket. */
export class DaemonUnreachableError extends Error {
  override readonly name = "DaemonUnreachableError";
}

/** Raised by the CLI for bad command lines. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The CLI exit code for a JSON-RPC error code: the failure's own, else operational error. */
export function exitCodeForRpc(code: number): number {
  for (const f of Object.values(FAILURES)) if (f.rpc === code) return f.exit;
  return ExitCode.Error;
}

/** The message of anything thrown. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
