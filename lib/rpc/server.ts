/**
 * JSON-RPC 2.0 over a Unix socket, one object per line (docs/PROTOCOL.md).
 * Every line gets its answer or is ignored as a notification; nothing a
 * client sends can throw out of here. Each connection writes through its own
 * queue (connection.ts).
 */
import { errorMessage } from "../error_message.ts";
import type { Logger } from "../logger.ts";
import { errorResponse, RpcCode, RpcError, type RpcId } from "./errors.ts";
import { Conn, type Connection, DRAIN_TIMEOUT_MS, FollowUp } from "./connection.ts";
import { LineFramer } from "./framing.ts";

/** The most connections served at once. */
export const MAX_CONNECTIONS = 256;
/** The most requests in one batch. */
export const MAX_BATCH = 1000;
/**
 * At shutdown, how long a client may take no byte before its connection is
 * closed with what it has not read: a follower that stopped reading (a paused
 * terminal, a pager) does not hold the daemon for the whole drain.
 */
export const SHUTDOWN_STALL_MS = 250;

/** Handles one method call; throws {@link RpcError} for JSON-RPC errors. */
export type Handler = (method: string, params: unknown, conn: Connection) => Promise<unknown>;

/** Options of {@link RpcServer}. */
export interface RpcServerOptions {
  readonly maxConnections?: number;
  readonly log?: Logger;
}

interface Answer {
  readonly response: unknown;
  readonly after?: () => void;
}

function isAnswer(v: unknown): v is Answer {
  return typeof v === "object" && v !== null && "response" in v;
}

/** Serves JSON-RPC on a listener until {@link close}. */
export class RpcServer {
  readonly #listener: Deno.Listener;
  readonly #handler: Handler;
  readonly #max: number;
  readonly #log: Logger;
  readonly #conns = new Set<Conn>();
  readonly #tasks = new Set<Promise<void>>();
  #nextId = 1;
  #closing = false;

  constructor(listener: Deno.Listener, handler: Handler, opts: RpcServerOptions = {}) {
    this.#listener = listener;
    this.#handler = handler;
    this.#max = opts.maxConnections ?? MAX_CONNECTIONS;
    this.#log = opts.log ?? (() => {});
  }

  /** Accepts connections until the listener closes. */
  async serve(): Promise<void> {
    while (!this.#closing) {
      let socket: Deno.Conn;
      try {
        socket = await this.#listener.accept();
      } catch (e) {
        if (this.#closing || e instanceof Deno.errors.BadResource) break;
        this.#log("warn", "accept failed", { error: errorMessage(e) });
        continue;
      }
      const conn = new Conn(this.#nextId++, socket);
      if (this.#conns.size >= this.#max) {
        conn.send(
          errorResponse(null, RpcCode.InternalError, `too many connections (max ${this.#max})`),
        );
        // Not awaited: a client that does not read must not stop the accept loop.
        conn.drain().then(() => conn.close());
        continue;
      }
      this.#conns.add(conn);
      const task = this.#serveConn(conn, socket).finally(() => {
        this.#conns.delete(conn);
        this.#tasks.delete(task);
      });
      this.#tasks.add(task);
    }
  }

  /**
   * Stops accepting and closes every connection, each once what is queued for
   * it is written, once its client took no byte for {@link SHUTDOWN_STALL_MS},
   * or after `drainMs`, whichever comes first: a client that does not read
   * never holds the daemon up (the listener is closed by its owner).
   */
  async closeConnections(drainMs = DRAIN_TIMEOUT_MS): Promise<void> {
    this.#closing = true;
    await Promise.all([...this.#conns].map(async (c) => {
      await c.drain(drainMs, SHUTDOWN_STALL_MS);
      c.close();
    }));
    await Promise.allSettled([...this.#tasks]);
  }

  async #serveConn(conn: Conn, socket: Deno.Conn) {
    const framer = new LineFramer();
    const buf = new Uint8Array(64 * 1024);
    try {
      while (!conn.closed) {
        const n = await socket.read(buf);
        if (n === null) break;
        for (const frame of framer.push(buf.subarray(0, n))) {
          if ("oversized" in frame) {
            conn.send(
              errorResponse(null, RpcCode.InvalidRequest, "request line longer than 1 MiB"),
            );
            await conn.drain();
            conn.close();
            return;
          }
          this.#onLine(conn, frame.line);
        }
      }
    } catch {
      // Reset by peer, or closed under us.
    } finally {
      await conn.drain();
      conn.close();
    }
  }

  #onLine(conn: Conn, line: string) {
    if (line.trim() === "") return;
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      conn.send(errorResponse(null, RpcCode.ParseError, "parse error: invalid JSON"));
      return;
    }
    if (Array.isArray(msg)) {
      if (msg.length === 0 || msg.length > MAX_BATCH) {
        const why = msg.length
          ? `a batch of ${msg.length} requests (at most ${MAX_BATCH})`
          : "empty batch";
        conn.send(errorResponse(null, RpcCode.InvalidRequest, `invalid request: ${why}`));
        return;
      }
      Promise.all(msg.map((m) => this.#call(conn, m))).then((answers) => {
        const out = answers.filter((a) => a !== undefined);
        if (out.length === 0 || !conn.answer(out.map((a) => a.response), null)) return;
        for (const a of out) a.after?.();
      });
      return;
    }
    this.#call(conn, msg).then((answer) => {
      if (answer === undefined) return;
      const id = (answer.response as { id?: RpcId }).id ?? null;
      if (conn.answer(answer.response, id)) answer.after?.();
    });
  }

  /** One request → its response, or undefined for a notification. Never rejects. */
  async #call(conn: Conn, msg: unknown): Promise<Answer | undefined> {
    const answer = await this.#answer(conn, msg);
    if (answer === undefined) return undefined;
    return isAnswer(answer) ? answer : { response: answer };
  }

  async #answer(conn: Conn, msg: unknown): Promise<unknown> {
    if (typeof msg !== "object" || msg === null || Array.isArray(msg)) {
      return errorResponse(null, RpcCode.InvalidRequest, "invalid request: expected a JSON object");
    }
    const req = msg as Record<string, unknown>;
    const hasId = Object.hasOwn(req, "id");
    const id = req.id;
    const validId = id === null || typeof id === "string" ||
      (typeof id === "number" && Number.isFinite(id));
    if (hasId && !validId) {
      return errorResponse(
        null,
        RpcCode.InvalidRequest,
        "invalid request: id must be a string, number or null",
      );
    }
    const rid = hasId ? (id as RpcId) : null;
    if (req.jsonrpc !== "2.0") {
      return errorResponse(rid, RpcCode.InvalidRequest, `invalid request: "jsonrpc" must be "2.0"`);
    }
    if (typeof req.method !== "string") {
      return errorResponse(
        rid,
        RpcCode.InvalidRequest,
        `invalid request: "method" must be a string`,
      );
    }
    // Notifications from clients carry nothing the daemon acts on.
    if (!hasId) return undefined;
    const params = req.params;
    if (params !== undefined && (typeof params !== "object" || params === null)) {
      return errorResponse(
        rid,
        RpcCode.InvalidParams,
        "invalid params: expected an object or array",
      );
    }
    try {
      const result = await this.#handler(req.method, params ?? {}, conn);
      if (result instanceof FollowUp) {
        return {
          response: { jsonrpc: "2.0", id: rid, result: result.result },
          after: result.after,
        };
      }
      return { jsonrpc: "2.0", id: rid, result: result ?? {} };
    } catch (e) {
      if (e instanceof RpcError) {
        return errorResponse(rid, e.code, e.message, e.data);
      }
      this.#log("error", "internal error", {
        method: req.method,
        error: e instanceof Error ? e.stack : String(e),
      });
      return errorResponse(
        rid,
        RpcCode.InternalError,
        `internal error: ${errorMessage(e)}`,
      );
    }
  }
}
