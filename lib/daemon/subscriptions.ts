/**
 * `logs` subscriptions. A subscription belongs to a server's name, not to one
 * actor: a reload that replaces the server, or a worker that is replaced,
 * keeps its followers. Its tail goes out first — from the ring, or read
 * from the files in bounded batches that wait for the client to take them —
 * and live lines that arrive meanwhile wait behind it; those the tail
 * already holds (the actor numbers the lines for followers, and the tail
 * says how many it covers) are dropped, not sent twice. Each follower has a
 * bounded share of its connection's queue: one that does not read fast
 * enough loses lines (counted, then reported once in `log_dropped`) instead
 * of slowing the child, the other followers or the daemon. Lines the actor
 * dropped because this thread fell behind (capture.ts) are reported alike.
 */
import type { LogTail } from "../logs/capture.ts";
import { droppedOf, type FollowBatch, linesOf } from "../logs/follow.ts";
import { readTail } from "../logs/read_files.ts";
import type { LogLine, Stream } from "../logs/ring.ts";
import { errorMessage } from "../error_message.ts";
import { type Connection, FollowUp, WRITE_STALL_MS } from "../rpc/connection.ts";
import type { Notifications } from "../protocol/types.ts";
import type { LogsRequest } from "./params.ts";

/** What a subscription needs of a server (a ServerHost, or a fake in tests). */
export interface LogSource {
  readonly name: string;
  readonly logFile: string;
  readonly config: { readonly logs: { readonly keep: number } };
  /** Whether the actor sends its lines: only while somebody follows. */
  follow(on: boolean): void;
  request(command: { kind: "logs"; tail?: number; stream?: Stream }): Promise<LogTail>;
}

/**
 * Unsent bytes on a follower's connection past which its lines are dropped.
 * A line goes out as a notification of 100–150 bytes more than the line, so
 * this holds a burst of 40,000–60,000 short lines whole while `xy logs -f`
 * catches up (1 MiB held 7,000: bench/RESULTS.md, "What each change bought", 17); it is half of
 * what a connection may hold at all (connection.ts).
 */
export const FOLLOWER_QUEUE_BYTES = 8 * 1024 * 1024;

/** A live line held back, with the server that sent it and its number there. */
interface Held {
  readonly line: LogLine;
  readonly from: LogSource | undefined;
  readonly seq: number;
}

interface Sub {
  readonly id: string;
  readonly conn: Connection;
  readonly name: string;
  readonly stream?: Stream;
  /** Live lines that came before the tail was out, and their size. */
  waiting: Held[] | null;
  waitingBytes: number;
  /** The tail's server and the last of its numbered lines the tail holds. */
  covered: { readonly from: LogSource; readonly seq: number } | null;
  dropped: number;
  /** Takes back the connection's close callback. */
  forget: () => void;
}

/** Every open follow subscription. */
export class Subscriptions {
  readonly #subs = new Map<string, Sub>();
  /** The server currently supervised under each name. */
  readonly #sources = new Map<string, LogSource>();
  #next = 1;

  /** A server (new, or replacing one of the same name): it sends lines if anybody follows it. */
  attach(source: LogSource): void {
    this.#sources.set(source.name, source);
    if (this.#followers(source.name) > 0) source.follow(true);
  }

  /** The server `name` is gone for good: its followers get `log_end` with `reason`. */
  end(name: string, reason: string): void {
    this.#sources.delete(name);
    for (const sub of [...this.#subs.values()]) {
      if (sub.name !== name) continue;
      this.#drop(sub);
      this.#notify(sub.conn, "log_end", { subscription_id: sub.id, name, reason });
    }
  }

  /** Answers `logs`: the tail, then live lines when following, or `log_end`. */
  async open(
    conn: Connection,
    source: LogSource,
    p: LogsRequest,
  ): Promise<FollowUp<{ subscription_id: string }>> {
    const id = `sub-${this.#next++}`;
    const name = source.name;
    let sub: Sub | undefined;
    if (p.follow) {
      sub = {
        id,
        conn,
        name,
        ...(p.stream ? { stream: p.stream } : {}),
        waiting: [],
        waitingBytes: 0,
        covered: null,
        dropped: 0,
        forget: conn.onClose(() => this.cancel(id)),
      };
      this.#subs.set(id, sub);
      if (this.#followers(name) === 1) this.#sources.get(name)?.follow(true);
    }
    let tail: LogTail;
    try {
      tail = await source.request({
        kind: "logs",
        ...(p.tail === undefined ? {} : { tail: p.tail }),
        ...(p.stream ? { stream: p.stream } : {}),
      });
    } catch (e) {
      this.cancel(id);
      throw e;
    }
    // Lines this server numbered up to the tail are in it, whenever they come;
    // the rest, and those of a server that replaced it meanwhile, follow it.
    if (sub?.waiting) {
      sub.covered = { from: source, seq: tail.sent };
      sub.waiting = sub.waiting.filter((h) => h.from !== source || h.seq > tail.sent);
      sub.waitingBytes = sub.waiting.reduce((n, h) => n + heldBytes(h.line), 0);
    }
    return new FollowUp({ subscription_id: id }, () => {
      this.#sendTail(conn, { id, source, tail, ...(p.stream ? { stream: p.stream } : {}) })
        .then((error) => {
          // Cancelled, or its server removed, while the tail went out: nothing more.
          if (sub && !this.#subs.has(id)) return;
          if (sub && !error) return this.#goLive(sub);
          if (sub) this.#drop(sub);
          this.#notify(conn, "log_end", {
            subscription_id: id,
            name,
            ...(error ? { error } : {}),
          });
        });
    });
  }

  /** Live lines from a server's actor (capture.ts numbers them). */
  deliver(name: string, batch: FollowBatch): void {
    const from = this.#sources.get(name);
    for (const sub of this.#subs.values()) {
      if (sub.name !== name) continue;
      // Lines numbered up to what its tail covers are in it.
      const covered = sub.covered && sub.covered.from === from ? sub.covered.seq : 0;
      let first = batch.sent - batch.dropped - batch.lines + 1;
      for (const block of batch.blocks) {
        const skip = Math.max(0, covered - first + 1);
        if ((!sub.stream || block.stream === sub.stream) && skip < block.lines) {
          let i = skip;
          for (const line of linesOf(block, skip)) {
            const l: LogLine = { stream: block.stream, line, ts: block.ts };
            const took = sub.waiting
              ? this.#wait(sub, { line: l, from, seq: first + i })
              : this.#send(sub, l);
            // A follower that takes no more loses the rest of the block, unsplit.
            if (!took) {
              this.#lose(sub, block.lines - i - 1);
              break;
            }
            i++;
          }
        }
        first += block.lines;
      }
      const lost = Math.min(droppedOf(batch, sub.stream), batch.sent - covered);
      if (lost > 0) this.#lose(sub, lost);
    }
  }

  /** Ends a subscription; false when there was none. */
  cancel(id: string): boolean {
    const sub = this.#subs.get(id);
    if (!sub) return false;
    this.#drop(sub);
    return true;
  }

  #drop(sub: Sub) {
    this.#subs.delete(sub.id);
    sub.forget();
    if (this.#followers(sub.name) === 0) this.#sources.get(sub.name)?.follow(false);
  }

  #followers(name: string): number {
    let n = 0;
    for (const sub of this.#subs.values()) if (sub.name === name) n++;
    return n;
  }

  /**
   * Sends the tail, the ring's lines or the files' in batches, as the
   * client takes them. Resolves with the error that cut it short, if any.
   */
  async #sendTail(
    conn: Connection,
    s: { id: string; source: LogSource; tail: LogTail; stream?: Stream },
  ): Promise<string | undefined> {
    const name = s.source.name;
    // A ring of short lines is many notifications (1 MiB of 2-byte lines: 75 MB of them).
    if ("lines" in s.tail) return await sendPaced(conn, s.tail.lines, s.id, name);
    try {
      const batches = readTail({
        path: s.source.logFile,
        keep: s.source.config.logs.keep,
        segments: s.tail.files,
        n: s.tail.want,
        ...(s.stream ? { stream: s.stream } : {}),
      });
      for await (const batch of batches) {
        const error = await sendPaced(conn, batch, s.id, name);
        if (error) return error;
      }
      return undefined;
    } catch (e) {
      return `the log files of "${name}" could not be read: ${errorMessage(e)}`;
    }
  }

  /** The tail is out: the lines that waited behind it follow, then live ones. */
  #goLive(sub: Sub) {
    const waiting = sub.waiting ?? [];
    sub.waiting = null;
    sub.waitingBytes = 0;
    const streak = sub.dropped > 0;
    for (const h of waiting) this.#send(sub, h.line);
    // What was dropped while it waited is told now, or once the client caught up.
    if (streak) this.#tellDropped(sub, true);
  }

  /** `n` lines `sub` does not get: counted, and told now or once its client caught up; false (not taken). */
  #lose(sub: Sub, n: number): false {
    if (n === 0) return false;
    const first = sub.dropped === 0;
    sub.dropped += n;
    // Before the tail is out the count waits: #goLive tells it.
    if (!sub.waiting) this.#tellDropped(sub, first);
    return false;
  }

  /** Reports the dropped count if the client keeps up, else (once a streak) when it catches up. */
  #tellDropped(sub: Sub, first: boolean) {
    if (sub.conn.queuedBytes <= FOLLOWER_QUEUE_BYTES) this.#reportDropped(sub);
    // Tell the follower as soon as it has caught up, even if no line follows.
    else if (first) sub.conn.onDrain(() => this.#reportDropped(sub));
  }

  /** Holds `h` until the tail is out; false (and it is lost) once the held lines are too many. */
  #wait(sub: Sub, h: Held): boolean {
    // Before the tail's reply this may count a line the tail turns out to hold.
    if (sub.waitingBytes > FOLLOWER_QUEUE_BYTES) return this.#lose(sub, 1);
    sub.waiting!.push(h);
    sub.waitingBytes += heldBytes(h.line);
    return true;
  }

  /** Sends `l`; false (and it is lost) when the follower's share of its connection is full. */
  #send(sub: Sub, l: LogLine): boolean {
    if (sub.conn.queuedBytes > FOLLOWER_QUEUE_BYTES) return this.#lose(sub, 1);
    this.#reportDropped(sub);
    this.#notify(sub.conn, "log", wire(sub.id, sub.name, l));
    return true;
  }

  #reportDropped(sub: Sub) {
    if (sub.dropped === 0 || !this.#subs.has(sub.id)) return;
    const count = sub.dropped;
    sub.dropped = 0;
    this.#notify(sub.conn, "log_dropped", { subscription_id: sub.id, name: sub.name, count });
  }

  #notify<N extends keyof Notifications>(conn: Connection, method: N, params: Notifications[N]) {
    conn.notify(method, params);
  }
}

/** What a held line is counted as against the queue limit. */
function heldBytes(l: LogLine): number {
  return l.line.length + 64;
}

/** Sends `lines`, waiting for the client whenever its queue is full; an error if it closed. */
async function sendPaced(conn: Connection, lines: readonly LogLine[], id: string, name: string) {
  for (const l of lines) {
    conn.notify("log", wire(id, name, l));
    if (conn.queuedBytes > FOLLOWER_QUEUE_BYTES) await conn.drain(WRITE_STALL_MS * 2);
    if (conn.closed) return "the connection closed";
  }
  return undefined;
}

function wire(id: string, name: string, l: LogLine): Notifications["log"] {
  return { subscription_id: id, name, stream: l.stream, line: l.line, ts_unix_ms: l.ts };
}
