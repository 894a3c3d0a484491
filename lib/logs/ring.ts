/**
 * The in-memory ring of a server's recent output, bounded by size. It keeps
 * the bytes as they were read, in one circular buffer, and makes lines of
 * them only when somebody asks for a tail: while output flows it costs a
 * memcpy per chunk, allocates nothing, and holds no string the garbage
 * collector would have to move. The buffer grows with the output, so a quiet
 * server's ring costs next to nothing.
 */
import { countNewlines, LineBlocks } from "./lines.ts";

/** Which pipe a line came from. */
export type Stream = "stdout" | "stderr";

/** One captured line. */
export interface LogLine {
  readonly stream: Stream;
  readonly line: string;
  readonly ts: number;
}

/** One chunk as read: its stream, when, and where its bytes are in the buffer. */
interface Chunk {
  readonly stream: Stream;
  readonly ts: number;
  readonly off: number;
  readonly len: number;
}

/** Default capacity: 1 MiB of output per server. */
export const RING_BYTES = 1024 * 1024;

/** The most chunks held at once (1 MiB of one-byte chunks must not mean a million objects). */
const MAX_CHUNKS = RING_BYTES / 32;

/** The buffer's first size, doubled as output comes, up to the capacity. */
const FIRST_SIZE = 4096;
const NL = 10;

/** A FIFO of chunks in a circular byte buffer; the oldest are overwritten as new ones come. */
export class LogRing {
  #buf = new Uint8Array(0);
  #chunks: Chunk[] = [];
  #head = 0;
  /** Where the next chunk goes. */
  #end = 0;
  #bytes = 0;
  /** Whether the oldest chunk held of each stream begins a line. */
  readonly #cleanStart = { stdout: true, stderr: true };
  constructor(readonly capacity: number = RING_BYTES) {}

  /** Appends a copy of `bytes`, read from `stream` at `ts`. */
  pushChunk(stream: Stream, ts: number, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const cut = bytes.length > this.capacity;
    // Only its newest bytes fit: its first line is cut.
    if (cut) bytes = bytes.subarray(bytes.length - this.capacity);
    this.#reserve(bytes.length);
    if (cut) this.#cleanStart[stream] = false;
    this.#buf.set(bytes, this.#end);
    this.#chunks.push({ stream, ts, off: this.#end, len: bytes.length });
    this.#end += bytes.length;
    this.#bytes += bytes.length;
  }

  /** Makes `[#end, #end + len)` free: grow while small, else wrap and overwrite the oldest. */
  #reserve(len: number) {
    if (this.#end + len > this.#buf.length && this.#buf.length < this.capacity) {
      let size = Math.max(this.#buf.length, FIRST_SIZE);
      while (size < this.#end + len) size *= 2;
      const grown = new Uint8Array(Math.min(size, this.capacity));
      // Before the buffer reaches the capacity nothing wrapped: the bytes are in order.
      grown.set(this.#buf.subarray(0, this.#end));
      this.#buf = grown;
    }
    // Wrapping: what lies past the last chunk is the oldest output, from the lap before; it goes
    // first (it comes first in the queue), else chunks of this lap would be overwritten and kept.
    let lapEnd = Infinity;
    if (this.#end + len > this.#buf.length) [lapEnd, this.#end] = [this.#end, 0];
    const end = this.#end + len;
    while (this.#head < this.#chunks.length) {
      const c = this.#chunks[this.#head]!;
      const overlaps = c.off >= lapEnd || (c.off < end && c.off + c.len > this.#end);
      if (!overlaps && this.#chunks.length - this.#head < MAX_CHUNKS) break;
      this.#bytes -= c.len;
      // The next chunk of its stream begins a line if this one ended one.
      this.#cleanStart[c.stream] = this.#buf[c.off + c.len - 1] === NL;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Size counted against the capacity. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * The last `n` lines (all when `n` is undefined), of `stream` when given,
   * oldest first. Only the chunks that can hold them are turned into lines;
   * the oldest chunk's first line, which may have begun before it, is left
   * out, and so is a last line not finished yet.
   */
  tail(n?: number, stream?: Stream): LogLine[] {
    const limit = n ?? Infinity;
    // Newest first, until the chunks hold more than `limit` line ends of the stream asked for.
    let from = this.#chunks.length;
    let ends = 0;
    while (from > this.#head && ends <= limit) {
      const c = this.#chunks[--from]!;
      if (!stream || c.stream === stream) ends += countNewlines(this.#view(c));
    }
    const splitters = { stdout: new LineBlocks(), stderr: new LineBlocks() };
    const started = {
      stdout: this.#beginsLine("stdout", from),
      stderr: this.#beginsLine("stderr", from),
    };
    const out: LogLine[] = [];
    for (let i = from; i < this.#chunks.length; i++) {
      const c = this.#chunks[i]!;
      if (stream && c.stream !== stream) continue;
      let bytes = this.#view(c);
      if (!started[c.stream]) {
        // This stream's first chunk here may begin inside a line: start after that line.
        const nl = bytes.indexOf(NL);
        if (nl === -1) continue;
        bytes = bytes.subarray(nl + 1);
        started[c.stream] = true;
      }
      for (const block of splitters[c.stream].push(bytes)) {
        for (const line of block.split("\n")) out.push({ stream: c.stream, line, ts: c.ts });
      }
    }
    // slice(-0) is the whole array: a tail of 0 is none.
    return n === undefined ? out : n === 0 ? [] : out.slice(-n);
  }

  /** Whether the first chunk of `stream` from index `from` on begins a line. */
  #beginsLine(stream: Stream, from: number): boolean {
    for (let i = from - 1; i >= this.#head; i--) {
      const c = this.#chunks[i]!;
      if (c.stream === stream) return this.#buf[c.off + c.len - 1] === NL;
    }
    return this.#cleanStart[stream];
  }

  #view(c: Chunk): Uint8Array {
    return this.#buf.subarray(c.off, c.off + c.len);
  }
}
