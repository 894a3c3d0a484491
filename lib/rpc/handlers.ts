/** Method name + params → a call on the daemon (SPEC §7). */
import { RpcCode, RpcError } from "../errors.ts";
import type { Outcome, Registry } from "../daemon/registry.ts";
import { validName } from "../daemon/registry.ts";
import type { Handler } from "./server.ts";
import { Subscriptions } from "../daemon/subscriptions.ts";
import type { DaemonInfo } from "./types.ts";

/** What the handlers need from the daemon. */
export interface DaemonContext {
  readonly registry: Registry;
  readonly subscriptions: Subscriptions;
  /** Resolves once the configs are loaded; every method but `daemon_info` waits for it. */
  readonly ready: Promise<void>;
  info(): DaemonInfo;
  /** Re-reads the config directory and applies the difference. */
  reload(): Promise<unknown>;
  /** Begins shutdown after the current response is written. */
  requestShutdown(): void;
}

/** The handler for every method of SPEC §7. */
export function createHandler(ctx: DaemonContext): Handler {
  return async (method, params, conn) => {
    if (Array.isArray(params)) {
      throw new RpcError(
        RpcCode.InvalidParams,
        "invalid params: expected an object of named params",
      );
    }
    const p = params as Record<string, unknown>;
    const reg = ctx.registry;
    if (method !== "daemon_info") await ctx.ready;
    switch (method) {
      case "list":
        return reg.summaries();
      case "status":
        return await reg.status(validName(p.name));
      case "start": {
        const outcomes = await reg.each(reg.targets(p), "start");
        return collect(outcomes, {
          started: (o) => o.result === "started",
          already_running: (o) => o.result === "already_running",
        });
      }
      case "stop": {
        const outcomes = await reg.each(reg.targets(p), "stop");
        return collect(outcomes, {
          stopped: (o) => o.result === "stopped",
          not_running: (o) => o.result === "not_running",
        });
      }
      case "restart": {
        const outcomes = await reg.each(reg.targets(p), "restart");
        return collect(outcomes, { restarted: (o) => o.result === "restarted" });
      }
      case "logs": {
        const host = reg.get(validName(p.name));
        return await ctx.subscriptions.open(conn, host, Subscriptions.params(p));
      }
      case "logs_cancel":
        if (typeof p.subscription_id !== "string") {
          throw new RpcError(
            RpcCode.InvalidParams,
            `invalid params: "subscription_id" must be a string`,
          );
        }
        ctx.subscriptions.cancel(p.subscription_id);
        return {};
      case "reload":
        return await ctx.reload();
      case "daemon_info":
        return ctx.info();
      case "shutdown":
        ctx.requestShutdown();
        return {};
      default:
        throw new RpcError(RpcCode.MethodNotFound, `method not found: ${JSON.stringify(method)}`);
    }
  };
}

/**
 * Groups outcomes into the result lists. When any server failed, the request
 * answers that error, with every list (and the failures) in `data`.
 */
function collect(outcomes: Outcome[], lists: Record<string, (o: Outcome) => boolean>) {
  const result: Record<string, string[]> = {};
  for (const [key, test] of Object.entries(lists)) {
    result[key] = outcomes.filter(test).map((o) => o.name);
  }
  const failed = outcomes.filter((o) => o.error);
  if (failed.length === 0) return result;
  const first = failed[0]!;
  const message = failed.map((o) => `${o.name}: ${o.error!.message}`).join("; ");
  throw new RpcError(first.error!.code, message, {
    ...result,
    failed: failed.map((o) => ({ name: o.name, ...o.error })),
  });
}
