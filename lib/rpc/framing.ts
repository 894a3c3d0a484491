/**
 * Newline-delimited JSON framing: bytes → complete lines, with a cap on line
 * length so a client cannot make the daemon buffer without bound.
 */

/** The longest request line the daemon accepts. */
export const MAX_LINE_BYTES = 1024 * 1024;

/** One framed item: a line, or the news that a line passed the cap. */
export type Frame = { readonly line: string } | { readonly oversized: true };

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Splits a byte stream into lines of at most `maxBytes`. */
export class LineFramer {
  #parts: Uint8Array[] = [];
  #size = 0;
  constructor(readonly maxBytes: number = MAX_LINE_BYTES) {}

  /** Adds a chunk; returns the frames it completed. After an `oversized` frame the stream is done. */
  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(10, start);
      const end = nl === -1 ? chunk.length : nl;
      if (this.#size + (end - start) > this.maxBytes) {
        frames.push({ oversized: true });
        this.#parts = [];
        this.#size = 0;
        return frames;
      }
      if (nl === -1) {
        this.#parts.push(chunk.slice(start));
        this.#size += chunk.length - start;
        break;
      }
      let bytes = chunk.subarray(start, nl);
      if (this.#parts.length) {
        this.#parts.push(bytes);
        bytes = concat(this.#parts, this.#size + bytes.length);
        this.#parts = [];
        this.#size = 0;
      }
      frames.push({ line: decoder.decode(bytes) });
      start = nl + 1;
    }
    return frames;
  }
}

/** One JSON value as a line of bytes. */
export function encodeLine(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value) + "\n");
}

/** `parts` (of `size` bytes in all) as one array. */
export function concat(parts: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
