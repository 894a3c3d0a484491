/** JSON-RPC errors as values and as responses. */

/** A request id as JSON-RPC allows it. */
export type RpcId = string | number | null;

/** An error that travels over JSON-RPC with a code of its own. */
export class RpcError extends Error {
  override readonly name = "RpcError";
  constructor(readonly code: number, message: string, readonly data?: unknown) {
    super(message);
  }
}

/** A JSON-RPC error response. */
export function errorResponse(id: RpcId, code: number, message: string, data?: unknown): unknown {
  return {
    jsonrpc: "2.0",
    id,
    error: data === undefined ? { code, message } : { code, message, data },
  };
}
