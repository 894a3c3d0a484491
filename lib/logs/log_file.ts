/**
 * A server's log file: lines are buffered and written in batches, rotated at
 * `maxSize` keeping `keep` old files (`name.log.1` newest), and reopened by
 * name when a write fails or the file disappears. Each line is
 * `<ISO-8601 UTC time with ms> [out] <line>` (or `[err]`). Lines go into one
 * reused byte buffer as they come: plain output as bytes, its prefix inserted
 * by prefix.ts, anything else decoded and encoded. Writes are synchronous on
 * purpose: ordering is then given, and a page-cache write of a large batch is
 * far shorter than the time it saves in promise bookkeeping (writing from
 * another thread was measured no faster).
 */
import { errorMessage } from "../error_message.ts";
import { countNewlines } from "./lines.ts";
import { PrefixInserter } from "./prefix.ts";
import type { Stream } from "./ring.ts";
import { Stamp } from "./stamp.ts";

/**
 * One log file as it was when a tail was asked: which file, and how much of
 * it. A file is its inode and its first bytes (an inode freed by rotation may
 * be reused by a new file, which starts with other lines).
 */
export interface Segment {
  readonly ino: number;
  readonly head: string;
  readonly size: number;
}

/** How many bytes of a file's start tell it apart. */
export const HEAD_BYTES = 64;

/** Where the log file of server `name` lives in `logDir`. */
export function logPath(logDir: string, name: string): string {
  return `${logDir}/${name}.log`;
}

/** The rotated file names of `path`, newest first: `path.1` … `path.keep`. */
export function rotatedNames(path: string, keep: number): string[] {
  return Array.from({ length: keep }, (_, i) => `${path}.${i + 1}`);
}

const encoder = new TextEncoder();
const headDecoder = new TextDecoder();
const NL = 10;
/** Shared by the log files of this thread; made when the first raw block comes. */
let inserter: PrefixInserter | undefined;

/**
 * How long a flush trusts that the open file is still the one at the path
 * (someone may remove it or rotate it away) before it looks again. Under a
 * flood, flushes come every few hundred microseconds, and a look at each took
 * some 8% of the capture's time (bench/RESULTS.md).
 */
export const RECHECK_MS = 20;

/** Where a rotation moves the file it drops while it is removed: `name.log.removing`. */
export const REMOVING = ".removing";

/** The rotating, batching log file of one server. */
export class LogFile {
  #file: Deno.FsFile | null = null;
  /** The removal of the file the last rotation dropped, while under way. */
  #removal: Promise<void> | null = null;
  #ino: number | null = null;
  #checkedAt = -Infinity;
  #size = 0;
  /** Lines not written yet: `#pending[0, #used)`, grown as needed and reused. */
  #pending = new Uint8Array(0);
  #used = 0;
  readonly #stamp = new Stamp();
  /** Lines that could not be written to the file. */
  writeErrors = 0;
  /** The last write error, for status. */
  lastWriteError: string | null = null;

  constructor(
    readonly path: string,
    readonly opts: {
      readonly maxSize: number;
      readonly keep: number;
      /** A monotonic clock in ms, for {@link RECHECK_MS} (tests); `performance.now` by default. */
      readonly now?: () => number;
    },
  ) {}

  /** Buffers one line; call {@link flush} to write. */
  append(stream: Stream, line: string, ts: number): void {
    this.appendBlock(stream, ts, line);
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
    let start = 0;
    try {
      this.#ensureOpen();
      while (start < bytes.length) {
        const room = this.opts.maxSize - this.#size;
        if (bytes.length - start <= room) {
          this.#write(bytes.subarray(start));
          break;
        }
        // Crosses the limit: what fits, up to the last whole line, then a new file.
        const cut = room > 0 ? bytes.lastIndexOf(NL, start + room - 1) : -1;
        if (cut >= start) {
          this.#write(bytes.subarray(start, cut + 1));
          start = cut + 1;
        } else if (this.#size === 0) {
          // One line longer than the whole file: it goes alone into one file.
          const end = bytes.indexOf(NL, start);
          this.#write(bytes.subarray(start, end + 1));
          start = end + 1;
        }
        if (start < bytes.length) this.#rotate();
      }
      this.lastWriteError = null;
    } catch (e) {
      this.writeErrors += countNewlines(bytes, start);
      this.lastWriteError = errorMessage(e);
      this.#closeFile();
    }
  }

  /**
   * Flushes, then names each file as it is now (inode and size), newest first:
   * what a tail read from the files covers, whatever rotation does meanwhile.
   */
  segments(): Segment[] {
    this.flush();
    const out: Segment[] = [];
    const head = new Uint8Array(HEAD_BYTES);
    for (const name of [this.path, ...rotatedNames(this.path, this.opts.keep)]) {
      let file: Deno.FsFile;
      try {
        file = Deno.openSync(name, { read: true });
      } catch {
        continue; // Not written yet, or fewer rotated files than `keep`.
      }
      try {
        const { ino, size } = file.statSync();
        const n = file.readSync(head) ?? 0;
        if (ino !== null) out.push({ ino, size, head: headDecoder.decode(head.subarray(0, n)) });
      } finally {
        file.close();
      }
    }
    return out;
  }

  /** Flushes and closes. */
  close(): void {
    this.flush();
    this.#closeFile();
  }

  #ensureOpen() {
    const now = this.opts.now?.() ?? performance.now();
    if (this.#file) {
      if (now - this.#checkedAt < RECHECK_MS) return;
      this.#checkedAt = now;
      // Reopen by name when the file was removed or rotated away under us.
      let ino: number | null = null;
      try {
        ino = Deno.statSync(this.path).ino;
      } catch {
        ino = null;
      }
      if (ino !== null && ino === this.#ino) return;
      this.#closeFile();
    }
    const dir = this.path.slice(0, this.path.lastIndexOf("/"));
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = Deno.openSync(this.path, { create: true, append: true, mode: 0o600 });
    const stat = file.statSync();
    this.#file = file;
    this.#ino = stat.ino;
    this.#checkedAt = now;
    this.#size = stat.size;
  }

  #write(bytes: Uint8Array) {
    const file = this.#file!;
    let off = 0;
    while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
    this.#size += bytes.length;
  }

  #rotate() {
    this.#closeFile();
    const names = rotatedNames(this.path, this.opts.keep);
    // The file the rotation drops is moved aside and removed by an async call, on
    // another thread: freeing a file's blocks, which renaming over it or truncating it
    // does in the calling thread, takes 3-6 ms for 10 MiB here and 26 ms for 130 MB
    // (ext4), and the child would wait for it in a full pipe (bench/RESULTS.md, change 22).
    // While a removal is under way the next rotation frees in place, as it did before.
    const aside = `${this.path}${REMOVING}`;
    let moved = false;
    if (this.#removal === null) {
      try {
        Deno.renameSync(names.at(-1) ?? this.path, aside);
        moved = true;
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
    if (names.length === 0) {
      if (!moved) Deno.truncateSync(this.path, 0);
    } else {
      for (let i = names.length - 1; i > 0; i--) {
        try {
          Deno.renameSync(names[i - 1]!, names[i]!);
        } catch (e) {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        }
      }
      Deno.renameSync(this.path, names[0]!);
    }
    this.#ensureOpen();
    if (moved) {
      this.#removal = Deno.remove(aside).catch(() => {}).finally(() => this.#removal = null);
    }
  }

  /** Resolves once the file a rotation dropped is removed (tests: no async call left running). */
  async settled(): Promise<void> {
    await this.#removal;
  }

  #closeFile() {
    try {
      this.#file?.close();
    } catch {
      // Already closed.
    }
    this.#file = null;
    this.#ino = null;
  }
}
