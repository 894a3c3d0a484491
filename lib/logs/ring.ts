/** The in-memory ring of a server's recent log lines, bounded by bytes. */

/** Which pipe a line came from. */
export type Stream = "stdout" | "stderr";

/** One captured line. */
export interface LogLine {
  readonly stream: Stream;
  readonly line: string;
  readonly ts: number;
}

/** Default capacity: 1 MiB of line text per server. */
export const RING_BYTES = 1024 * 1024;

/** Overhead counted per entry so many empty lines cannot grow the ring without bound. */
const ENTRY_OVERHEAD = 32;

/** A FIFO of lines that evicts the oldest once the total size passes `capacity`. */
export class LogRing {
  #items: LogLine[] = [];
  #head = 0;
  #bytes = 0;
  constructor(readonly capacity: number = RING_BYTES) {}

  /** Appends a line, evicting old ones. */
  push(item: LogLine): void {
    this.#items.push(item);
    this.#bytes += cost(item);
    while (this.#bytes > this.capacity && this.#head < this.#items.length - 1) {
      this.#bytes -= cost(this.#items[this.#head]!);
      this.#head++;
    }
    // Compact now and then so the array does not grow forever.
    if (this.#head > 4096 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  /** How many lines it holds. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Bytes counted against the capacity. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The last `n` lines (all when `n` is undefined), optionally of one stream, oldest first. */
  tail(n?: number, stream?: Stream): LogLine[] {
    const out: LogLine[] = [];
    const limit = n ?? Infinity;
    for (let i = this.#items.length - 1; i >= this.#head && out.length < limit; i--) {
      const item = this.#items[i]!;
      if (!stream || item.stream === stream) out.push(item);
    }
    return out.reverse();
  }
}

function cost(item: LogLine): number {
  return item.line.length + ENTRY_OVERHEAD;
}
