/**
 * One client connection's write side. Everything sent goes through one queue
 * written by one pump, so a response and a notification never interleave
 * inside a line; a client that stops reading only fills its own queue, and
 * past {@link MAX_QUEUED_BYTES} it is dropped rather than holding the daemon's
 * memory hostage.
 */
import { encodeLine } from "./framing.ts";

/** Unsent bytes a connection may hold before it is dropped. */
export const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

/** A connected client, as the daemon's methods see it. */
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

  constructor(readonly id: number, socket: Writable, opts: { maxQueuedBytes?: number } = {}) {
    this.#socket = socket;
    this.#maxQueued = opts.maxQueuedBytes ?? MAX_QUEUED_BYTES;
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
    if (this.#closed) return false;
    const bytes = encodeLine(value);
    if (this.#queued + bytes.length > this.#maxQueued) {
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
    if (this.#idle) queueMicrotask(fn);
    else this.#drainers.push(fn);
  }

  /** Resolves once everything queued so far is written (or the connection died). */
  drain(): Promise<void> {
    return new Promise((resolve) => {
      if (this.#closed || this.#idle) return resolve();
      this.#drainers.push(resolve);
      this.#closers.push(resolve);
    });
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

  async #pump() {
    this.#writing = true;
    try {
      while (this.#queue.length && !this.#closed) {
        const chunk = this.#queue.shift()!;
        let off = 0;
        while (off < chunk.length) off += await this.#socket.write(chunk.subarray(off));
        if (!this.#closed) this.#queued -= chunk.length;
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
