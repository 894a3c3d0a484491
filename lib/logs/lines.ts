/**
 * Turns a child's output into blocks of whole lines. A block is the text of
 * the complete lines one chunk finished, joined by `\n` — kept whole rather
 * than split, because a million lines a second are cheap only when nobody
 * handles them one by one (the file, the ring and the followers each split or
 * prefix a block with one native call). Or, from {@link LineBlocks.pushRaw},
 * those lines' bytes as read, for the log file to take without decoding when
 * they are plain. Invalid UTF-8 becomes U+FFFD; a trailing `\r` is dropped; a
 * line longer than {@link MAX_LINE} characters is split.
 */

/** The longest line kept whole: 64 Ki characters. */
export const MAX_LINE = 64 * 1024;

const NL = 10;
/** Decodes raw blocks, which are whole lines: no state carries over. */
const rawDecoder = new TextDecoder("utf-8", { fatal: false });

/** Incremental: `push` chunks, then `end` once for a final unterminated line. */
export class LineBlocks {
  readonly #decoder = new TextDecoder("utf-8", { fatal: false });
  readonly #maxLine: number;
  /** The start of a line not finished yet. */
  #carry = "";
  /**
   * The last chunk ended a line: nothing is carried and the decoder holds no
   * byte, so the next chunk's lines all begin in it. A server that writes a
   * line at a time keeps this true, and its lines are never decoded.
   */
  #aligned = true;

  constructor(opts: { maxLine?: number } = {}) {
    this.#maxLine = opts.maxLine ?? MAX_LINE;
  }

  /**
   * Adds a chunk; returns the blocks of lines it completed (none, one, or two:
   * the line it finished from the last chunk's carry comes alone, so the
   * chunk's own text is never copied into a new string).
   */
  push(chunk: Uint8Array): string[] {
    if (chunk.length) this.#aligned = chunk[chunk.length - 1] === NL;
    const fresh = this.#decoder.decode(chunk, { stream: true });
    const cut = fresh.lastIndexOf("\n");
    if (cut === -1) {
      this.#carry += fresh;
      return this.#carry.length > this.#maxLine ? [this.#cutCarry()] : [];
    }
    const blocks: string[] = [];
    let start = 0;
    if (this.#carry !== "") {
      const nl = fresh.indexOf("\n");
      blocks.push(this.#fit(clean(this.#carry + fresh.slice(0, nl))));
      start = nl + 1;
    }
    if (start <= cut) blocks.push(this.#fit(clean(fresh.slice(start, cut))));
    this.#carry = fresh.slice(cut + 1);
    if (this.#carry.length > this.#maxLine) blocks.push(this.#cutCarry());
    return blocks;
  }

  /**
   * Adds a chunk as {@link push} does, but its whole lines come back as their
   * bytes (each line ending in `\n`), not decoded: for a consumer that can
   * take bytes as they are and calls {@link text} on those it cannot. Only a
   * first line that began in the last chunk, and the unfinished last one, go
   * through the decoder, so it sees every byte that is not handed out raw,
   * and is between characters where it is.
   */
  pushRaw(chunk: Uint8Array): (string | Uint8Array)[] {
    const last = chunk.lastIndexOf(NL);
    if (last === -1) return this.push(chunk);
    const ends = last === chunk.length - 1;
    if (this.#aligned) {
      this.#aligned = ends;
      if (ends) return [chunk];
      this.#carry = this.#decoder.decode(chunk.subarray(last + 1), { stream: true });
      const whole = chunk.subarray(0, last + 1);
      return this.#carry.length > this.#maxLine ? [whole, this.#cutCarry()] : [whole];
    }
    this.#aligned = ends;
    const first = chunk.indexOf(NL);
    // With its \n, so the decoder ends between characters (a broken one is replaced here).
    const head = this.#carry + this.#decoder.decode(chunk.subarray(0, first + 1), { stream: true });
    const blocks: (string | Uint8Array)[] = [this.#fit(clean(head.slice(0, -1)))];
    if (last > first) blocks.push(chunk.subarray(first + 1, last + 1));
    this.#carry = this.#decoder.decode(chunk.subarray(last + 1), { stream: true });
    if (this.#carry.length > this.#maxLine) blocks.push(this.#cutCarry());
    return blocks;
  }

  /** A raw block of {@link pushRaw} as a text block: decoded, CRLF cleaned, long lines split. */
  text(raw: Uint8Array): string {
    return this.#fit(clean(rawDecoder.decode(raw.subarray(0, -1))));
  }

  /** `block` with its lines longer than the cap split; checked only when a line can be that long. */
  #fit(block: string): string {
    return block.length > this.#maxLine && longLines(block, this.#maxLine)
      ? splitLong(block, this.#maxLine)
      : block;
  }

  /** The final line without a newline, if any. */
  end(): string | null {
    const rest = this.#carry + this.#decoder.decode();
    this.#carry = "";
    this.#aligned = true;
    if (rest === "") return null;
    const line = clean(rest);
    return line.length > this.#maxLine ? splitLong(line, this.#maxLine) : line;
  }

  /** The whole pieces of a carry that grew past the longest line; the rest stays. */
  #cutCarry(): string {
    const pieces: string[] = [];
    while (this.#carry.length > this.#maxLine) {
      pieces.push(this.#carry.slice(0, this.#maxLine));
      this.#carry = this.#carry.slice(this.#maxLine);
    }
    return pieces.join("\n");
  }
}

/** How many newlines `text` (bytes or a string) holds from index `start` on. */
export function countNewlines(text: Uint8Array | string, start = 0): number {
  let n = 0;
  if (typeof text === "string") {
    for (let i = text.indexOf("\n", start); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  } else {
    for (let i = text.indexOf(10, start); i !== -1; i = text.indexOf(10, i + 1)) n++;
  }
  return n;
}

/** CRLF line ends become LF; a last line's `\r` goes too. */
function clean(text: string): string {
  if (!text.includes("\r")) return text;
  const lf = text.replaceAll("\r\n", "\n");
  return lf.endsWith("\r") ? lf.slice(0, -1) : lf;
}

/** True when a line of `block` is longer than `max`. */
function longLines(block: string, max: number): boolean {
  let start = 0;
  while (start < block.length) {
    const nl = block.indexOf("\n", start);
    const end = nl === -1 ? block.length : nl;
    if (end - start > max) return true;
    if (nl === -1) return false;
    start = nl + 1;
  }
  return false;
}

/** The block with every line longer than `max` cut into pieces of at most `max`. */
function splitLong(block: string, max: number): string {
  return block.split("\n").flatMap((line) => {
    const pieces: string[] = [];
    for (let i = 0; i < line.length || i === 0; i += max) pieces.push(line.slice(i, i + max));
    return pieces;
  }).join("\n");
}
