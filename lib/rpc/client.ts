/**
 * The client side of the socket: calls typed by a method map (the daemon's is
 * protocol/types.ts), and the notifications the other side sends.
 */
import { DaemonUnreachableError, RpcCode, RpcError } from "./errors.ts";
import { errorMessage } from "../error_message.ts";
import { encodeLine, LineFramer } from "./framing.ts";

interface Pending {
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
}

/** Methods by name, each with its params (undefined: none) and its result. */
export type MethodMap<M> = { readonly [K in keyof M]: { params: unknown; result: unknown } };

/** The params a call of method `K` takes: none, or its params object. */
export type ParamsOf<M extends MethodMap<M>, K extends keyof M> = M[K]["params"] extends undefined
  ? []
  : undefined extends M[K]["params"] ? [M[K]["params"]?]
  : [M[K]["params"]];

/** One connection to the daemon: methods `M`, notifications `N`. */
export class RpcClient<M extends MethodMap<M>, N = unknown> {
  readonly #conn: Deno.UnixConn;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #notify: (n: N) => void = () => {};
  /** No more requests: closed by us, or by the daemon. */
  #closed = false;
  #socketClosed = false;
  readonly #reading: Promise<void>;
  /** Resolves when the daemon closes the connection. */
  readonly closed: Promise<void>;

  private constructor(conn: Deno.UnixConn) {
    this.#conn = conn;
    this.#reading = this.#read();
    this.closed = this.#reading;
  }

  /** Connects, or throws {@link DaemonUnreachableError} when nothing answers at `path`. */
  static async connect<M extends MethodMap<M>, N = unknown>(
    path: string,
  ): Promise<RpcClient<M, N>> {
    try {
      return new RpcClient<M, N>(await Deno.connect({ transport: "unix", path }));
    } catch (e) {
      if (
        e instanceof Deno.errors.NotFound || e instanceof Deno.errors.ConnectionRefused ||
        e instanceof Deno.errors.PermissionDenied
      ) {
        throw new DaemonUnreachableError(`no daemon is listening on ${path}`);
      }
      throw e;
    }
  }

  /** Calls `method`; rejects with {@link RpcError} on an error response. */
  call<K extends keyof M & string>(method: K, ...params: ParamsOf<M, K>): Promise<M[K]["result"]> {
    return this.request(method, params[0]) as Promise<M[K]["result"]>;
  }

  /** Sends any method with any params, unchecked (for tests and tools). */
  request(method: string, params?: unknown): Promise<unknown> {
    if (this.#closed) {
      return Promise.reject(new DaemonUnreachableError("the daemon closed the connection"));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      const msg = params === undefined
        ? { jsonrpc: "2.0", id, method }
        : { jsonrpc: "2.0", id, method, params };
      this.#conn.write(encodeLine(msg)).catch((e) => {
        this.#pending.delete(id);
        reject(new DaemonUnreachableError(`cannot talk to the daemon: ${errorMessage(e)}`));
      });
    });
  }

  /** Receives every notification the daemon sends. */
  onNotification(fn: (n: N) => void): void {
    this.#notify = fn;
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#shut();
    await this.#reading;
  }

  /** Closes the socket, once, whichever side ended the connection first. */
  #shut() {
    if (this.#socketClosed) return;
    this.#socketClosed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }

  async #read() {
    const framer = new LineFramer(Infinity);
    const buf = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        for (const frame of framer.push(buf.subarray(0, n))) {
          if ("line" in frame) this.#dispatch(frame.line);
        }
      }
    } catch {
      // Closed by us or reset by the daemon.
    }
    this.#closed = true;
    // The daemon went first: the socket is closed here, not left to a close() that
    // would otherwise find the connection already marked closed.
    this.#shut();
    for (const p of this.#pending.values()) {
      p.reject(new DaemonUnreachableError("the daemon closed the connection"));
    }
    this.#pending.clear();
  }

  #dispatch(line: string) {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof msg.method === "string" && msg.id === undefined) {
      this.#notify({ method: msg.method, params: msg.params } as N);
      return;
    }
    const p = this.#pending.get(msg.id as number);
    if (!p) return;
    this.#pending.delete(msg.id as number);
    const err = msg.error as { code?: number; message?: string; data?: unknown } | undefined;
    if (err) {
      p.reject(
        new RpcError(err.code ?? RpcCode.InternalError, err.message ?? "unknown error", err.data),
      );
    } else p.resolve(msg.result);
  }
}
