/**
 * JSON-RPC 2.0 over a Unix socket, one object per line (SPEC §7). Every line
 * gets its answer or is ignored as a notification; nothing a client sends can
 * throw out of here. Each connection writes through its own queue, so a
 * response and a notification never interleave inside a line, and a client
 * that stops reading only fills its own queue until it is dropped.
 */
import { RpcCode, RpcError } from "../errors.ts";
import { encodeLine, LineFramer } from "./framing.ts";

/** The most connections served at once. */
export const MAX_CONNECTIONS = 256;
/** Unsent bytes a connection may hold before the daemon drops it. */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

/** A request id as JSON-RPC allows it. */
export type RpcId = string | number | null;

/**
 * A handler result whose `after` runs once the response is queued, so what it
 * sends (e.g. `log` notifications) always follows the response on the wire.
 */
export class FollowUp {
  constructor(readonly result: unknown, readonly after: () => void) {}
}

/** A connected client, as handlers see it. */
export interface Connection {
  readonly id: number;
  /** Bytes queued and not yet written to the socket. */
  readonly queuedBytes: number;
  /** Sends a notification; false when the connection is gone or too far behind. */
  notify(method: string, params: unknown): boolean;
  /** Runs `fn` once, the next time everything queued has been written. */
  onDrain(fn: () => void): void;
  /** Runs `fn` when the connection closes. */
  onClose(fn: () => void): void;
}

/** Handles one method call; throws RpcError for JSON-RPC errors. */
export type Handler = (method: string, params: unknown, conn: Connection) => Promise<unknown>;

/** Options of {@link RpcServer}. */
export interface RpcServerOptions {
  readonly maxConnections?: number;
  readonly log?: (msg: string, fields?: Record<string, unknown>) => void;
}

class Conn implements Connection {
  readonly #socket: Deno.Conn;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #writing = false;
  #closed = false;
  readonly #closers: (() => void)[] = [];
  #drainers: (() => void)[] = [];

  constructor(readonly id: number, socket: Deno.Conn) {
    this.#socket = socket;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get queuedBytes(): number {
    return this.#queued;
  }

  send(value: unknown): boolean {
    if (this.#closed) return false;
    const bytes = encodeLine(value);
    if (this.#queued + bytes.length > MAX_QUEUED_BYTES) {
      this.close();
      return false;
    }
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    if (!this.#writing) this.#pump();
    return true;
  }

  notify(method: string, params: unknown): boolean {
    return this.send({ jsonrpc: "2.0", method, params });
  }

  onClose(fn: () => void): void {
    if (this.#closed) fn();
    else this.#closers.push(fn);
  }

  onDrain(fn: () => void): void {
    if (this.#closed) return;
    if (!this.#writing && this.#queue.length === 0) queueMicrotask(fn);
    else this.#drainers.push(fn);
  }

  /** Resolves once everything queued so far is written (or the connection died). */
  drain(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#closed || (!this.#writing && this.#queue.length === 0)) return resolve();
      this.#drainers.push(resolve);
      this.#closers.push(resolve);
    });
  }

  async #pump() {
    this.#writing = true;
    try {
      while (this.#queue.length && !this.#closed) {
        const chunk = this.#queue.shift()!;
        let off = 0;
        while (off < chunk.length) off += await this.#socket.write(chunk.subarray(off));
        this.#queued -= chunk.length;
      }
    } catch {
      this.close();
    } finally {
      this.#writing = false;
    }
    if (!this.#closed && this.#queue.length === 0 && this.#drainers.length) {
      for (const fn of this.#drainers.splice(0)) fn();
    }
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    try {
      this.#socket.close();
    } catch {
      // Already closed.
    }
    for (const fn of this.#closers.splice(0)) {
      try {
        fn();
      } catch {
        // A cleanup must not stop the others.
      }
    }
  }
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
  readonly #log: (msg: string, fields?: Record<string, unknown>) => void;
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
        this.#log("accept failed", { error: String(e) });
        continue;
      }
      const conn = new Conn(this.#nextId++, socket);
      if (this.#conns.size >= this.#max) {
        conn.send(
          errorResponse(null, RpcCode.InternalError, `too many connections (max ${this.#max})`),
        );
        await conn.drain();
        conn.close();
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

  /** Stops accepting and closes every connection (the listener is closed by its owner). */
  async closeConnections(): Promise<void> {
    this.#closing = true;
    for (const c of this.#conns) {
      await c.drain();
      c.close();
    }
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
      if (msg.length === 0) {
        conn.send(errorResponse(null, RpcCode.InvalidRequest, "invalid request: empty batch"));
        return;
      }
      Promise.all(msg.map((m) => this.#call(conn, m))).then((answers) => {
        const out = answers.filter((a) => a !== undefined);
        if (out.length) conn.send(out.map((a) => a.response));
        for (const a of out) a.after?.();
      });
      return;
    }
    this.#call(conn, msg).then((answer) => {
      if (answer === undefined) return;
      conn.send(answer.response);
      answer.after?.();
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
      this.#log("internal error", {
        method: req.method,
        error: e instanceof Error ? e.stack : String(e),
      });
      return errorResponse(
        rid,
        RpcCode.InternalError,
        `internal error: ${e instanceof Error ? e.message : e}`,
      );
    }
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
