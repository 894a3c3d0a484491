/**
 * One client connection's write side. Everything sent goes through one queue
 * written by one pump, so a response and a notification never interleave
 * inside a line. A client that stops reading only fills its own queue: past
 * {@link MAX_QUEUED_BYTES} it is dropped rather than holding the daemon's
 * memory hostage, and so is one that takes no byte for {@link WRITE_STALL_MS}.
 */
import { deadline } from "../deadline.ts";
import { errorResponse, RpcCode, type RpcId } from "./errors.ts";
import { concat, encodeLine } from "./framing.ts";

/** Unsent bytes a connection may hold before it is dropped. */
export const MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/** How long a write may wait for the client to read before the connection is dropped. */
export const WRITE_STALL_MS = 10_000;
/** Queued lines are written together, up to this many bytes per write. */
const BATCH_BYTES = 256 * 1024;
/** How long {@link Conn.drain} waits by default. */
export const DRAIN_TIMEOUT_MS = 2_000;

/** A connected client, as the daemon's methods see it. */
export interface Connection {
  readonly id: number;
  /** True once closed, by either side. */
  readonly closed: boolean;
  /** Bytes queued and not yet written to the socket. */
  readonly queuedBytes: number;
  /**
   * Resolves once what is queued is written, the connection closed,
   * `timeoutMs` passed, or the client took no byte for `stallMs`.
   */
  drain(timeoutMs?: number, stallMs?: number): Promise<void>;
  /** Sends a notification; false when the connection is gone or too far behind. */
  notify(method: string, params: unknown): boolean;
  /** Runs `fn` once, the next time everything queued has been written. */
  onDrain(fn: () => void): void;
  /** Runs `fn` when the connection closes; the returned function takes it back. */
  onClose(fn: () => void): () => void;
}

/**
 * A method's result whose `after` runs once the response is queued, so what
 * it sends (e.g. `log` notifications) always follows the response on the wire.
 */
export class FollowUp<T = unknown> {
  constructor(readonly result: T, readonly after: () => void) {}
}

/** What a connection writes to: a socket, or a fake in tests. */
export interface Writable {
  write(p: Uint8Array): Promise<number>;
  close(): void;
}

/** The write queue of one connection. */
export class Conn implements Connection {
  readonly #socket: Writable;
  readonly #maxQueued: number;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #writing = false;
  #closed = false;
  readonly #closers: (() => void)[] = [];
  #drainers: (() => void)[] = [];
  /** Bytes the client has taken so far: {@link Conn.drain} tells a stalled client by it. */
  #taken = 0;

  readonly #stallMs: number;

  constructor(
    readonly id: number,
    socket: Writable,
    opts: { maxQueuedBytes?: number; writeStallMs?: number } = {},
  ) {
    this.#socket = socket;
    this.#maxQueued = opts.maxQueuedBytes ?? MAX_QUEUED_BYTES;
    this.#stallMs = opts.writeStallMs ?? WRITE_STALL_MS;
  }

  /** True once closed, by either side. */
  get closed(): boolean {
    return this.#closed;
  }

  get queuedBytes(): number {
    return this.#queued;
  }

  /** Queues one JSON value as a line; false (and the connection closed) past the limit. */
  send(value: unknown): boolean {
    return this.#push(encodeLine(value));
  }

  /**
   * Queues the answer to request `id`. An answer that would not fit in the
   * queue is replaced by an error answer that says so: the client learns why,
   * instead of seeing the connection close. True when `value` itself was queued.
   */
  answer(value: unknown, id: RpcId): boolean {
    const bytes = encodeLine(value);
    if (this.#closed || this.#queued + bytes.length <= this.#maxQueued) return this.#push(bytes);
    const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
    this.send(errorResponse(
      id,
      RpcCode.InternalError,
      `the answer is ${mib(bytes.length)}, more than the ${mib(this.#maxQueued)} ` +
        `a connection may hold: ask for less (e.g. fewer requests in one batch)`,
    ));
    return false;
  }

  notify(method: string, params: unknown): boolean {
    return this.send({ jsonrpc: "2.0", method, params });
  }

  onClose(fn: () => void): () => void {
    if (this.#closed) {
      fn();
      return () => {};
    }
    this.#closers.push(fn);
    return () => {
      const i = this.#closers.indexOf(fn);
      if (i >= 0) this.#closers.splice(i, 1);
    };
  }

  onDrain(fn: () => void): void {
    if (this.#closed) return;
    if (this.#idle) queueMicrotask(fn);
    else this.#drainers.push(fn);
  }

  /**
   * Resolves once everything queued so far is written, the connection died,
   * `timeoutMs` passed, or the client took no byte for `stallMs`: a client
   * that does not read must not hold anyone up, and one that reads is waited
   * for as long as it makes progress, up to `timeoutMs`.
   */
  async drain(timeoutMs = DRAIN_TIMEOUT_MS, stallMs = timeoutMs): Promise<void> {
    if (this.#closed || this.#idle) return;
    let done!: () => void;
    const drained = new Promise<void>((resolve) => done = resolve);
    // Taken back when done, so that waits on a long-lived connection do not pile up.
    const forget = this.onClose(done);
    this.#drainers.push(done);
    try {
      await deadline(drained, timeoutMs, {
        ...(stallMs < timeoutMs ? { stall: { ms: stallMs, progress: () => this.#taken } } : {}),
      });
    } catch {
      // Out of time, or the client stopped taking bytes: the caller goes on without it.
    } finally {
      forget();
      const i = this.#drainers.indexOf(done);
      if (i >= 0) this.#drainers.splice(i, 1);
    }
  }

  /** Closes the socket and runs the close callbacks once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#queued = 0;
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

  get #idle(): boolean {
    return !this.#writing && this.#queue.length === 0;
  }

  #push(bytes: Uint8Array): boolean {
    if (this.#closed) return false;
    if (this.#queued + bytes.length > this.#maxQueued) {
      this.close();
      return false;
    }
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    if (!this.#writing) this.#pump();
    return true;
  }

  /** The queued lines as one buffer of at most {@link BATCH_BYTES} (or one longer line). */
  #takeBatch(): Uint8Array {
    let n = 0;
    let size = 0;
    while (n < this.#queue.length && (n === 0 || size + this.#queue[n]!.length <= BATCH_BYTES)) {
      size += this.#queue[n++]!.length;
    }
    const parts = this.#queue.splice(0, n);
    return parts.length === 1 ? parts[0]! : concat(parts, size);
  }

  async #pump() {
    this.#writing = true;
    try {
      while (this.#queue.length && !this.#closed) {
        const batch = this.#takeBatch();
        let off = 0;
        while (off < batch.length) {
          // A client that takes no byte for a while is dropped: closing the socket ends the write.
          const n = await deadline(this.#socket.write(batch.subarray(off)), this.#stallMs);
          off += n;
          this.#taken += n;
        }
        if (!this.#closed) this.#queued -= batch.length;
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
}
