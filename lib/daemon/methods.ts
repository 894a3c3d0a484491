/**
 * The daemon's answer to each method of the protocol (docs/PROTOCOL.md):
 * params checked first (params.ts), then a call on the servers. Domain errors
 * become JSON-RPC errors here, through the one table in lib/protocol/failures.ts.
 */
import { errorMessage } from "../error_message.ts";
import { DomainError, FAILURES } from "../protocol/failures.ts";
import { RpcCode, RpcError } from "../rpc/errors.ts";
import type { Connection, FollowUp } from "../rpc/connection.ts";
import type { Handler } from "../rpc/server.ts";
import type { DaemonInfo, MethodName, Methods } from "../protocol/types.ts";
import type { Fleet, Lifecycle, Outcome } from "./fleet.ts";
import {
  checkName,
  logsParams,
  namedParams,
  type Params,
  reloadParams,
  subscriptionParam,
  targetsParam,
} from "./params.ts";
import type { Subscriptions } from "./subscriptions.ts";
import {
  invalidRow,
  invalidToWire,
  processesOf,
  type ServerView,
  statusOf,
  summaryOf,
} from "./wire.ts";
import type { ServerProcs, Usage } from "../process/usage.ts";
import type { UsageSampler } from "./usage_sampler.ts";
import { compareNames } from "../config/schema.ts";

/** What the methods need from the daemon. */
export interface MethodContext {
  readonly fleet: Fleet;
  readonly subscriptions: Subscriptions;
  /** Resolves once the configs are loaded; every method but `daemon_info` waits for it. */
  readonly ready: Promise<void>;
  info(): DaemonInfo;
  /** Server `name`'s bearer token; null when it takes none. Throws for an unknown server. */
  token(name: string): string | null;
  /** Begins shutdown after the current response is written. */
  requestShutdown(): void;
  /** What servers' processes cost, sampled while someone asks. */
  readonly usage: Pick<UsageSampler, "costs">;
}

/** `view` with what its processes cost, when it has a run. */
function withUsage(view: ServerView, cost: (who: ServerProcs) => Usage): ServerView {
  const who = processesOf(view);
  return who ? { ...view, usage: cost(who) } : view;
}

type Result<M extends MethodName> = Methods[M]["result"] | FollowUp<Methods[M]["result"]>;
type Impl<M extends MethodName> = (p: Params, conn: Connection) => Promise<Result<M>> | Result<M>;

/** The handler for every method. */
export function createHandler(ctx: MethodContext): Handler {
  const { fleet, subscriptions } = ctx;
  const lifecycle = (kind: Lifecycle, p: Params) => fleet.lifecycle(kind, targetsParam(p));
  const methods: { readonly [M in MethodName]: Impl<M> } = {
    list: async () => {
      const { servers, invalid } = fleet.list();
      const cost = await ctx.usage.costs();
      const now = Date.now();
      return [...servers.map((v) => summaryOf(withUsage(v, cost), now)), ...invalid.map(invalidRow)]
        .sort((a, b) => compareNames(a.name, b.name));
    },
    status: async (p) => {
      const view = await fleet.status(checkName(p.name));
      return statusOf(withUsage(view, await ctx.usage.costs()), Date.now());
    },
    start: async (p) =>
      collect(await lifecycle("start", p), {
        started: (o) => o.result === "started",
        already_running: (o) => o.result === "already_running",
        starting: (o) => o.result === "starting",
        blocked: (o) => o.result === "blocked",
      }),
    stop: async (p) =>
      collect(await lifecycle("stop", p), {
        stopped: (o) => o.result === "stopped",
        not_running: (o) => o.result === "not_running",
        dependents: (o) => o.result === "stopped" && o.cascade === true,
      }),
    restart: async (p) =>
      collect(await lifecycle("restart", p), {
        restarted: (o) => o.result === "restarted",
        started: (o) => o.result === "started",
        blocked: (o) => o.result === "blocked",
      }),
    logs: (p, conn) => {
      const request = logsParams(p);
      return subscriptions.open(conn, fleet.registry.get(request.name), request);
    },
    logs_cancel: (p) => {
      subscriptions.cancel(subscriptionParam(p));
      return {};
    },
    reload: async (p) => {
      const r = await fleet.reload(reloadParams(p));
      return { ...r, invalid: r.invalid.map(invalidToWire) };
    },
    daemon_info: () => ctx.info(),
    token: (p) => ({ token: ctx.token(checkName(p.name)) }),
    shutdown: () => {
      ctx.requestShutdown();
      return {};
    },
  };
  return async (method, params, conn) => {
    const p = namedParams(params);
    if (!Object.hasOwn(methods, method)) {
      throw new RpcError(RpcCode.MethodNotFound, `method not found: ${JSON.stringify(method)}`);
    }
    if (method !== "daemon_info") await ctx.ready;
    try {
      return await (methods[method as MethodName] as Impl<MethodName>)(p, conn);
    } catch (e) {
      throw e instanceof DomainError ? toRpcError(e) : e;
    }
  };
}

/** A domain error as the JSON-RPC error the protocol gives it. */
export function toRpcError(e: DomainError, data?: unknown): RpcError {
  return new RpcError(FAILURES[e.failure].rpc, e.message, data);
}

/**
 * Sorts outcomes into the result's lists by what each server answered. When
 * any failed, the request answers the first failure's error, with every list
 * (and each failure) in `data`.
 */
function collect<K extends string>(
  outcomes: readonly Outcome[],
  lists: Readonly<Record<K, (o: Outcome & { result: string }) => boolean>>,
): Record<K, string[]> {
  const result = {} as Record<K, string[]>;
  for (const key of Object.keys(lists) as K[]) {
    result[key] = outcomes.flatMap((o) => "result" in o && lists[key](o) ? [o.name] : []);
  }
  const failed = outcomes.flatMap((o) =>
    "error" in o ? [{ name: o.name, error: asRpc(o.error) }] : []
  );
  const first = failed[0];
  if (!first) return result;
  const message = failed.map((f) => `${f.name}: ${f.error.message}`).join("; ");
  throw new RpcError(first.error.code, message, {
    ...result,
    failed: failed.map((f) => ({ name: f.name, code: f.error.code, message: f.error.message })),
  });
}

function asRpc(e: unknown): RpcError {
  if (e instanceof RpcError) return e;
  if (e instanceof DomainError) return toRpcError(e);
  return new RpcError(RpcCode.InternalError, errorMessage(e));
}
