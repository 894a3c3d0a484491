/**
 * `logs` subscriptions: each follower has a bounded share of its connection's
 * write queue. A follower whose client does not read fast enough loses lines
 * (counted, then reported in one `log_dropped`) instead of slowing the child,
 * the other followers or the RPC server.
 */
import { RpcCode, RpcError } from "../errors.ts";
import type { LogLine, Stream } from "../logs/ring.ts";
import { type Connection, FollowUp } from "../rpc/server.ts";
import type { ServerHost } from "../supervisor/host.ts";

/** Unsent bytes on a follower's connection past which its lines are dropped. */
export const FOLLOWER_QUEUE_BYTES = 1024 * 1024;

interface Sub {
  readonly id: string;
  readonly conn: Connection;
  readonly host: ServerHost;
  readonly stream?: Stream;
  /** False until the snapshot is sent: live lines before it are in the snapshot. */
  ready: boolean;
  dropped: number;
}

/** Parameters of the `logs` method, validated. */
export interface LogsParams {
  readonly tail?: number;
  readonly follow: boolean;
  readonly stream?: Stream;
}

/** Every open follow subscription. */
export class Subscriptions {
  readonly #subs = new Map<string, Sub>();
  #next = 1;

  /** Answers `logs`: the snapshot, then live lines when following, or `log_end`. */
  async open(conn: Connection, host: ServerHost, p: LogsParams): Promise<FollowUp> {
    const id = `sub-${this.#next++}`;
    let sub: Sub | undefined;
    if (p.follow) {
      sub = { id, conn, host, ...(p.stream ? { stream: p.stream } : {}), ready: false, dropped: 0 };
      this.#subs.set(id, sub);
      host.follow(1);
      conn.onClose(() => this.cancel(id));
    }
    let snapshot: LogLine[];
    try {
      snapshot = await host.request({
        kind: "logs",
        ...(p.tail === undefined ? {} : { tail: p.tail }),
        ...(p.stream ? { stream: p.stream } : {}),
      }) as LogLine[];
    } catch (e) {
      this.cancel(id);
      throw e;
    }
    return new FollowUp({ subscription_id: id }, () => {
      for (const l of snapshot) conn.notify("log", wire(id, host.name, l));
      if (sub) sub.ready = true;
      else conn.notify("log_end", { subscription_id: id, name: host.name });
    });
  }

  /** Live lines from a server's actor. */
  deliver(name: string, lines: readonly LogLine[]): void {
    for (const sub of this.#subs.values()) {
      if (sub.host.name !== name || !sub.ready) continue;
      for (const l of lines) {
        if (sub.stream && l.stream !== sub.stream) continue;
        if (sub.conn.queuedBytes > FOLLOWER_QUEUE_BYTES) {
          // Tell the follower as soon as it has caught up, even if no line follows.
          if (sub.dropped++ === 0) sub.conn.onDrain(() => this.#reportDropped(sub));
          continue;
        }
        this.#reportDropped(sub);
        sub.conn.notify("log", wire(sub.id, name, l));
      }
    }
  }

  #reportDropped(sub: Sub) {
    if (sub.dropped === 0 || !this.#subs.has(sub.id)) return;
    sub.conn.notify("log_dropped", {
      subscription_id: sub.id,
      name: sub.host.name,
      count: sub.dropped,
    });
    sub.dropped = 0;
  }

  /** Ends a subscription; false when there was none. */
  cancel(id: string): boolean {
    const sub = this.#subs.get(id);
    if (!sub) return false;
    this.#subs.delete(id);
    sub.host.follow(-1);
    return true;
  }

  /** Validates `logs` params. */
  static params(p: Record<string, unknown>): LogsParams {
    const bad = (m: string) => new RpcError(RpcCode.InvalidParams, `invalid params: ${m}`);
    if (p.tail !== undefined && (!Number.isSafeInteger(p.tail) || (p.tail as number) < 0)) {
      throw bad(`"tail" must be a non-negative integer`);
    }
    if (p.follow !== undefined && typeof p.follow !== "boolean") {
      throw bad(`"follow" must be a boolean`);
    }
    if (p.stream !== undefined && p.stream !== "stdout" && p.stream !== "stderr") {
      throw bad(`"stream" must be "stdout" or "stderr"`);
    }
    return {
      ...(p.tail === undefined ? {} : { tail: p.tail as number }),
      follow: p.follow === true,
      ...(p.stream === undefined ? {} : { stream: p.stream as Stream }),
    };
  }
}

function wire(id: string, name: string, l: LogLine) {
  return { subscription_id: id, name, stream: l.stream, line: l.line, ts_unix_ms: l.ts };
}
