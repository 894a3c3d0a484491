/**
 * Checking what a client sent before anything is touched: every method's
 * params go through one of these, and a bad value is an `InvalidParams` error
 * that names the param and what was expected.
 */
import { isValidName } from "../config/schema.ts";
import { RpcCode, RpcError } from "../rpc/errors.ts";

/** Named params, as every method takes them. */
export type Params = Readonly<Record<string, unknown>>;

/** A `logs` request, checked. */
export interface LogsRequest {
  readonly name: string;
  readonly tail?: number;
  readonly follow: boolean;
  readonly stream?: "stdout" | "stderr";
}

function invalid(message: string): RpcError {
  return new RpcError(RpcCode.InvalidParams, `invalid params: ${message}`);
}

/** The params object; positional (array) params are refused. */
export function namedParams(params: unknown): Params {
  if (Array.isArray(params) || typeof params !== "object" || params === null) {
    throw invalid("expected an object of named params");
  }
  return params as Params;
}

/** A valid server name. */
export function checkName(name: unknown): string {
  if (typeof name !== "string" || !isValidName(name)) {
    throw invalid(`bad server name ${JSON.stringify(name)}`);
  }
  return name;
}

/** Exactly one of `name`, `names` (non-empty) or `all: true`. */
export function targetsParam(p: Params): { all: true } | { names: string[] } {
  const given = ["name", "names", "all"].filter((k) => p[k] !== undefined);
  if (given.length !== 1) throw invalid(`give exactly one of "name", "names", "all"`);
  if (p.all !== undefined) {
    if (p.all !== true) throw invalid(`"all" must be true`);
    return { all: true };
  }
  const names = p.name !== undefined ? [p.name] : p.names;
  if (!Array.isArray(names) || names.length === 0) {
    throw invalid(`"names" must be a non-empty array of names`);
  }
  return { names: names.map(checkName) };
}

/** `logs` params. */
export function logsParams(p: Params): LogsRequest {
  const name = checkName(p.name);
  if (p.tail !== undefined && (!Number.isSafeInteger(p.tail) || (p.tail as number) < 0)) {
    throw invalid(`"tail" must be a non-negative integer`);
  }
  if (p.follow !== undefined && typeof p.follow !== "boolean") {
    throw invalid(`"follow" must be a boolean`);
  }
  if (p.stream !== undefined && p.stream !== "stdout" && p.stream !== "stderr") {
    throw invalid(`"stream" must be "stdout" or "stderr"`);
  }
  return {
    name,
    ...(p.tail === undefined ? {} : { tail: p.tail as number }),
    follow: p.follow === true,
    ...(p.stream === undefined ? {} : { stream: p.stream }),
  };
}

/** `logs_cancel`'s subscription id. */
export function subscriptionParam(p: Params): string {
  if (typeof p.subscription_id !== "string") throw invalid(`"subscription_id" must be a string`);
  return p.subscription_id;
}

/** `reload` params: which files (all when absent), and whether added servers start. */
export function reloadParams(p: Params): { names?: string[]; start: boolean } {
  if (p.start !== undefined && typeof p.start !== "boolean") {
    throw invalid(`"start" must be true or false`);
  }
  const start = p.start !== false;
  if (p.names === undefined) return { start };
  if (!Array.isArray(p.names) || p.names.length === 0) {
    throw invalid(`"names" must be a non-empty array of names`);
  }
  return { names: p.names.map(checkName), start };
}
