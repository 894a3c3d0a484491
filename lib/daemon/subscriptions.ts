/**
 * `logs` subscriptions: each follower has a bounded share of its connection's
 * write queue. A follower whose client does not read fast enough loses lines
 * (counted, then reported in one `log_dropped`) instead of slowing the child,
 * the other followers or the RPC server.
 */
import type { LogLine, Stream } from "../logs/ring.ts";
import { type Connection, FollowUp } from "../rpc/connection.ts";
import type { Notifications } from "../rpc/types.ts";
import type { LogsRequest } from "./params.ts";

/** What a subscription needs of a server (a ServerHost, or a fake in tests). */
export interface LogSource {
  readonly name: string;
  /** Counts a follower in or out: lines are delivered only while somebody follows. */
  follow(delta: 1 | -1): void;
  request(command: { kind: "logs"; tail?: number; stream?: Stream }): Promise<LogLine[]>;
}

/** Unsent bytes on a follower's connection past which its lines are dropped. */
export const FOLLOWER_QUEUE_BYTES = 1024 * 1024;

interface Sub {
  readonly id: string;
  readonly conn: Connection;
  readonly host: LogSource;
  readonly stream?: Stream;
  /** False until the snapshot is sent: live lines before it are in the snapshot. */
  ready: boolean;
  dropped: number;
  /** Takes back the connection's close callback. */
  forget?: () => void;
}

/** Every open follow subscription. */
export class Subscriptions {
  readonly #subs = new Map<string, Sub>();
  #next = 1;

  /** Answers `logs`: the snapshot, then live lines when following, or `log_end`. */
  async open(
    conn: Connection,
    host: LogSource,
    p: LogsRequest,
  ): Promise<FollowUp<{ subscription_id: string }>> {
    const id = `sub-${this.#next++}`;
    let sub: Sub | undefined;
    if (p.follow) {
      sub = { id, conn, host, ...(p.stream ? { stream: p.stream } : {}), ready: false, dropped: 0 };
      this.#subs.set(id, sub);
      host.follow(1);
      sub.forget = conn.onClose(() => this.cancel(id));
    }
    let snapshot: LogLine[];
    try {
      snapshot = await host.request({
        kind: "logs",
        ...(p.tail === undefined ? {} : { tail: p.tail }),
        ...(p.stream ? { stream: p.stream } : {}),
      });
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
    const dropped: Notifications["log_dropped"] = {
      subscription_id: sub.id,
      name: sub.host.name,
      count: sub.dropped,
    };
    sub.conn.notify("log_dropped", dropped);
    sub.dropped = 0;
  }

  /** Ends a subscription; false when there was none. */
  cancel(id: string): boolean {
    const sub = this.#subs.get(id);
    if (!sub) return false;
    this.#subs.delete(id);
    sub.forget?.();
    sub.host.follow(-1);
    return true;
  }
}

function wire(id: string, name: string, l: LogLine): Notifications["log"] {
  return { subscription_id: id, name, stream: l.stream, line: l.line, ts_unix_ms: l.ts };
}
