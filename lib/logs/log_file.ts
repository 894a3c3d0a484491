/**
 * A server's log file: lines are buffered and written in batches to a
 * rotating file (rotating_file.ts), each as `<ISO-8601 UTC time with ms>
 * [out] <line>` (or `[err]`). Lines go into one reused byte buffer as they
 * come: plain output as bytes, its prefix inserted by prefix.ts, anything
 * else decoded and encoded. A write that fails counts the lines it lost and
 * the file is opened again by name at the next flush.
 */
import { errorMessage } from "../error_message.ts";
import { countNewlines } from "./lines.ts";
import { PrefixInserter } from "./prefix.ts";
import type { Stream } from "./ring.ts";
import { RotatingFile, type RotatingFileOptions, type Segment } from "./rotating_file.ts";
import { Stamp } from "./stamp.ts";

/** Where the log file of server `name` lives in `logDir`. */
export function logPath(logDir: string, name: string): string {
  return `${logDir}/${name}.log`;
}

const encoder = new TextEncoder();
const NL = 10;
/** Shared by the log files of this thread; made when the first raw block comes. */
let inserter: PrefixInserter | undefined;

/** The batching log file of one server. */
export class LogFile {
  readonly #file: RotatingFile;
  /** Lines not written yet: `#pending[0, #used)`, grown as needed and reused. */
  #pending = new Uint8Array(0);
  #used = 0;
  readonly #stamp = new Stamp();
  /** Lines that could not be written to the file. */
  writeErrors = 0;
  /** The last write error, for status. */
  lastWriteError: string | null = null;

  constructor(readonly path: string, opts: RotatingFileOptions) {
    this.#file = new RotatingFile(path, opts);
  }

  /**
   * Buffers the lines of `block` (joined by `\n`), each as `<time> [out] <line>`.
   * The prefix is made once per millisecond (stamp.ts) and inserted with one native call.
   */
  appendBlock(stream: Stream, ts: number, block: string): void {
    this.#stamp.at(ts);
    const prefix = this.#stamp.text(stream);
    const lines = block.includes("\n") ? block.replaceAll("\n", `\n${prefix}`) : block;
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    this.#reserve((prefix.length + lines.length + 1) * 3);
    this.#used += encoder.encodeInto(prefix, this.#pending.subarray(this.#used)).written;
    this.#used += encoder.encodeInto(lines, this.#pending.subarray(this.#used)).written;
    this.#pending[this.#used++] = NL;
  }

  /**
   * Buffers raw whole lines (each ending in `\n`) as {@link appendBlock} would
   * their text: as bytes where they are plain (prefix.ts), else as `text(raw)`.
   */
  appendRaw(stream: Stream, ts: number, raw: Uint8Array, text: (raw: Uint8Array) => string): void {
    const stamp = this.#stamp;
    stamp.at(ts);
    const bytes = (inserter ??= new PrefixInserter()).insert(
      raw,
      stamp.bytes(stream),
      stamp.length,
    );
    if (bytes === null) return this.appendBlock(stream, ts, text(raw));
    this.#reserve(bytes.length);
    this.#pending.set(bytes, this.#used);
    this.#used += bytes.length;
  }

  /** Room for `bytes` more in the buffer. */
  #reserve(bytes: number) {
    if (this.#used + bytes <= this.#pending.length) return;
    const grown = new Uint8Array(Math.max(this.#used + bytes, this.#pending.length * 2));
    grown.set(this.#pending.subarray(0, this.#used));
    this.#pending = grown;
  }

  /** Bytes buffered and not yet written. */
  get pendingBytes(): number {
    return this.#used;
  }

  /** Writes everything buffered, rotating where the size limit falls (always between lines). */
  flush(): void {
    if (this.#used === 0) return;
    const bytes = this.#pending.subarray(0, this.#used);
    this.#used = 0;
    // A long burst's big buffer is not kept for good (the view above stays valid).
    if (this.#pending.length > 4 * 1024 * 1024) this.#pending = new Uint8Array(0);
    const written = { at: 0 };
    try {
      this.#file.write(bytes, written);
      this.lastWriteError = null;
    } catch (e) {
      this.writeErrors += countNewlines(bytes, written.at);
      this.lastWriteError = errorMessage(e);
      this.#file.close();
    }
  }

  /**
   * Flushes, then names each file as it is now (inode and size), newest first:
   * what a tail read from the files covers, whatever rotation does meanwhile.
   */
  segments(): Segment[] {
    this.flush();
    return this.#file.segments();
  }

  /** Flushes and closes. */
  close(): void {
    this.flush();
    this.#file.close();
  }

  /** Resolves once the file a rotation dropped is removed (no async call left running). */
  settled(): Promise<void> {
    return this.#file.settled();
  }
}
