/**
 * Splits a byte stream into lines without copying more than needed: bytes are
 * searched for `\n` with `indexOf` and only finished lines are decoded. A line
 * longer than {@link MAX_LINE} is cut at a UTF-8 boundary; invalid bytes become
 * U+FFFD; a trailing `\r` is dropped.
 */

/** The longest line kept whole; longer lines are split into pieces of at most this many bytes. */
export const MAX_LINE = 64 * 1024;

const NL = 10;
const CR = 13;

/** Incremental splitter: `push` chunks, then `end` once for a final unterminated line. */
export class LineSplitter {
  #carry: Uint8Array | null = null;
  readonly #decoder = new TextDecoder("utf-8", { fatal: false });
  readonly #maxLine: number;

  constructor(opts: { maxLine?: number } = {}) {
    this.#maxLine = opts.maxLine ?? MAX_LINE;
  }

  /** Adds a chunk; returns the lines it completed. */
  push(chunk: Uint8Array): string[] {
    const out: string[] = [];
    let buf = chunk;
    if (this.#carry) {
      const joined = new Uint8Array(this.#carry.length + chunk.length);
      joined.set(this.#carry);
      joined.set(chunk, this.#carry.length);
      buf = joined;
      this.#carry = null;
    }
    let start = 0;
    while (start < buf.length) {
      const nl = buf.indexOf(NL, start);
      if (nl === -1) break;
      this.#emit(buf.subarray(start, nl), out);
      start = nl + 1;
    }
    let rest = buf.subarray(start);
    while (rest.length > this.#maxLine) {
      const cut = utf8Boundary(rest, this.#maxLine);
      out.push(this.#decode(rest.subarray(0, cut)));
      rest = rest.subarray(cut);
    }
    // Copy the tail: the chunk's buffer may be reused by the stream.
    if (rest.length > 0) this.#carry = rest.slice();
    return out;
  }

  /** The final line without a newline, if any. */
  end(): string[] {
    const out: string[] = [];
    if (this.#carry) this.#emit(this.#carry, out);
    this.#carry = null;
    return out;
  }

  #emit(line: Uint8Array, out: string[]) {
    let end = line.length;
    if (end > 0 && line[end - 1] === CR) end--;
    let start = 0;
    while (end - start > this.#maxLine) {
      const cut = start + utf8Boundary(line.subarray(start, end), this.#maxLine);
      out.push(this.#decode(line.subarray(start, cut)));
      start = cut;
    }
    out.push(this.#decode(line.subarray(start, end)));
  }

  #decode(bytes: Uint8Array): string {
    return this.#decoder.decode(bytes);
  }
}

/** The largest cut ≤ `max` that does not fall inside a multi-byte UTF-8 character. */
function utf8Boundary(bytes: Uint8Array, max: number): number {
  let cut = max;
  // Step back over continuation bytes (10xxxxxx), at most 3.
  for (let i = 0; i < 3 && cut > 0 && ((bytes[cut] ?? 0) & 0xc0) === 0x80; i++) cut--;
  return cut > 0 ? cut : max;
}
