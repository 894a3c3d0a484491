/**
 * The failures a request on a server can end in, and the one table that gives
 * each its JSON-RPC code on the socket and its CLI exit code
 * (docs/PROTOCOL.md). Domain code throws {@link DomainError}; the daemon
 * answers it with the failure's code; the CLI turns a code back into an exit
 * code with {@link exitCodeForRpc}.
 */

/** The CLI's exit codes. */
export const ExitCode = {
  Ok: 0,
  Error: 1,
  Unreachable: 2,
  ConfigInvalid: 3,
  Usage: 64,
} as const;

/** What a request on a server can fail with: its JSON-RPC code and the CLI's exit code. */
export const FAILURES = {
  ServerNotFound: { rpc: -32001, exit: ExitCode.Error },
  PortConflict: { rpc: -32002, exit: ExitCode.Error },
  ConfigInvalid: { rpc: -32003, exit: ExitCode.ConfigInvalid },
  AlreadyRunning: { rpc: -32004, exit: ExitCode.Error },
  NotRunning: { rpc: -32005, exit: ExitCode.Error },
  SpawnFailed: { rpc: -32006, exit: ExitCode.Error },
  /** The server's supervisor is gone (shut down, or its worker died): JSON-RPC's internal error. */
  Internal: { rpc: -32603, exit: ExitCode.Error },
} as const;

/** The name of a failure. */
export type Failure = keyof typeof FAILURES;

/** A failure of a request on a server, named so the daemon can answer it with its code. */
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

/** The CLI exit code for a JSON-RPC error code: the failure's own, else an operational error. */
export function exitCodeForRpc(code: number): number {
  for (const f of Object.values(FAILURES)) if (f.rpc === code) return f.exit;
  return ExitCode.Error;
}
