/**
 * The errors callers handle, each mapped to its JSON-RPC code and CLI exit code
 * in one table (CONVENTIONS §6).
 */

/** JSON-RPC error codes of SPEC §7. */
export const RpcCode = {
  ServerNotFound: -32001,
  PortConflict: -32002,
  ConfigInvalid: -32003,
  AlreadyRunning: -32004,
  NotRunning: -32005,
  SpawnFailed: -32006,
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
} as const;

/** CLI exit codes of SPEC §8. */
export const ExitCode = {
  Ok: 0,
  Error: 1,
  Unreachable: 2,
  ConfigInvalid: 3,
  Usage: 64,
} as const;

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

/** An error that travels over JSON-RPC with a code of its own. */
export class RpcError extends Error {
  override readonly name = "RpcError";
  constructor(readonly code: number, message: string, readonly data?: unknown) {
    super(message);
  }
}

/** Names the server a request asked for when it does not exist. */
export function serverNotFound(name: string): RpcError {
  return new RpcError(RpcCode.ServerNotFound, `no server named "${name}"`);
}

/** Raised by the CLI when no daemon answers on the socket. */
export class DaemonUnreachableError extends Error {
  override readonly name = "DaemonUnreachableError";
}

/** Raised by the CLI for bad command lines. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The CLI exit code for an RPC error code. */
export function exitCodeForRpc(code: number): number {
  return code === RpcCode.ConfigInvalid ? ExitCode.ConfigInvalid : ExitCode.Error;
}
