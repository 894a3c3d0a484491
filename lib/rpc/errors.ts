/** JSON-RPC errors as values and as responses, and the codes the JSON-RPC spec gives them. */

/** A request id as JSON-RPC allows it. */
export type RpcId = string | number | null;

/** The codes the JSON-RPC 2.0 spec defines; methods add their own (protocol/failures.ts). */
export const RpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
} as const;

/** An error that travels over JSON-RPC with a code of its own. */
export class RpcError extends Error {
  override readonly name = "RpcError";
  constructor(readonly code: number, message: string, readonly data?: unknown) {
    super(message);
  }
}

/** Nothing answers on the socket: no daemon, or one that does not answer in time. */
export class DaemonUnreachableError extends Error {
  override readonly name = "DaemonUnreachableError";
}

/** A JSON-RPC error response. */
export function errorResponse(id: RpcId, code: number, message: string, data?: unknown): unknown {
  return {
    jsonrpc: "2.0",
    id,
    error: data === undefined ? { code, message } : { code, message, data },
  };
}
