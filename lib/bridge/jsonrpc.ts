/**
 * JSON-RPC 2.0 messages as the bridge sees them: one object each, told apart
 * by what they carry (a request has a method and an id, a notification a
 * method and no id, a response an id and a result or an error).
 */

/** A request id: a string or a number (null only in an error answer to what could not be read). */
export type RpcId = string | number;

/** A JSON-RPC error object. */
export interface RpcErrorObject {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

/** One JSON-RPC message. */
export interface RpcMessage {
  readonly jsonrpc?: "2.0";
  readonly id?: RpcId | null;
  readonly method?: string;
  readonly params?: Record<string, unknown>;
  readonly result?: unknown;
  readonly error?: RpcErrorObject;
}

/** The standard codes xy answers with. */
export const RPC_ERRORS = {
  parse: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
} as const;

/** True for a request: a method and an id. */
export function isRequest(m: RpcMessage): m is RpcMessage & { method: string; id: RpcId } {
  return typeof m.method === "string" && (typeof m.id === "string" || typeof m.id === "number");
}

/** True for a notification: a method and no id. */
export function isNotification(m: RpcMessage): m is RpcMessage & { method: string } {
  return typeof m.method === "string" && m.id === undefined;
}

/** True for a response: an id, and a result or an error. */
export function isResponse(m: RpcMessage): m is RpcMessage & { id: RpcId } {
  return m.method === undefined && (typeof m.id === "string" || typeof m.id === "number") &&
    ("result" in m || "error" in m);
}

/** The answer to request `id`. */
export function result(id: RpcId, value: unknown): RpcMessage {
  return { jsonrpc: "2.0", id, result: value };
}

/** The error answer to request `id`. */
export function failure(id: RpcId | null, code: number, message: string): RpcMessage {
  return { jsonrpc: "2.0", id: id as RpcId, error: { code, message } };
}

/** A notification. */
export function notification(method: string, params?: Record<string, unknown>): RpcMessage {
  return params === undefined ? { jsonrpc: "2.0", method } : { jsonrpc: "2.0", method, params };
}

/** A plain object, for reading params and results that came from outside. */
export function asObject(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? v as Record<string, unknown>
    : undefined;
}

/**
 * A message from parsed JSON, when it is one (an object, `jsonrpc` 2.0 or
 * missing, a method or an id); undefined otherwise.
 */
export function asMessage(v: unknown): RpcMessage | undefined {
  const o = asObject(v);
  if (!o || (o.jsonrpc !== undefined && o.jsonrpc !== "2.0")) return undefined;
  if (o.params !== undefined && !asObject(o.params)) return undefined;
  if (typeof o.method !== "string" && o.id === undefined) return undefined;
  return o as RpcMessage;
}
