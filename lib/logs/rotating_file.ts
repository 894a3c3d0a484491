/**
 * A file of lines that rotates: written at the end, renamed to `path.1` (the
 * older ones to `.2` … `.keep`) where the next line would pass `maxSize`, and
 * reopened by name when the file disappears or is rotated away under it. The
 * one rotating writer of xy: each server's log (log_file.ts) and the daemon's
 * own (daemon/log.ts) write through it. Writes are synchronous on purpose:
 * ordering is then given, and a page-cache write of a large batch is far
 * shorter than the time it saves in promise bookkeeping (writing from
 * another thread was measured no faster).
 */

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

/** The rotated file names of `path`, newest first: `path.1` … `path.keep`. */
export function rotatedNames(path: string, keep: number): string[] {
  return Array.from({ length: keep }, (_, i) => `${path}.${i + 1}`);
}

/**
 * How long a write trusts that the open file is still the one at the path
 * (someone may remove it or rotate it away) before it looks again. Under a
 * flood, writes come every few hundred microseconds, and a look at each took
 * some 8% of the capture's time (bench/RESULTS.md).
 */
export const RECHECK_MS = 20;

/** Where a rotation moves the file it drops while it is removed: `name.log.removing`. */
export const REMOVING = ".removing";

/** Options of {@link RotatingFile}. */
export interface RotatingFileOptions {
  readonly maxSize: number;
  readonly keep: number;
  /** A monotonic clock in ms, for {@link RECHECK_MS} (tests); `performance.now` by default. */
  readonly now?: () => number;
}

const NL = 10;
const headDecoder = new TextDecoder();

/** A file of lines at `path`, rotated at `maxSize`, keeping `keep` old files. */
export class RotatingFile {
  #file: Deno.FsFile | null = null;
  /** The removal of the file the last rotation dropped, while under way. */
  #removal: Promise<void> | null = null;
  #ino: number | null = null;
  #checkedAt = -Infinity;
  #size = 0;

  constructor(readonly path: string, readonly opts: RotatingFileOptions) {}

  /**
   * Writes whole lines (the last ending in `\n`), rotating where the size
   * limit falls, always between lines; a line longer than a whole file goes
   * alone into one. Throws what the file system throws; `written` then says
   * how many bytes of `bytes` made it.
   */
  write(bytes: Uint8Array, written: { at: number } = { at: 0 }): void {
    this.#ensureOpen();
    let start = 0;
    written.at = 0;
    while (start < bytes.length) {
      const room = this.opts.maxSize - this.#size;
      if (bytes.length - start <= room) {
        this.#write(bytes.subarray(start));
        written.at = bytes.length;
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
        const stop = end === -1 ? bytes.length : end + 1;
        this.#write(bytes.subarray(start, stop));
        start = stop;
      }
      written.at = start;
      if (start < bytes.length) this.#rotate();
    }
  }

  /** Each file as it is now (inode and size), newest first: what a tail read from the files covers. */
  segments(): Segment[] {
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

  /** Closes the file; the next write opens it again by name. */
  close(): void {
    try {
      this.#file?.close();
    } catch {
      // Already closed.
    }
    this.#file = null;
    this.#ino = null;
  }

  /** Resolves once the file a rotation dropped is removed (no async call left running). */
  async settled(): Promise<void> {
    await this.#removal;
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
      this.close();
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
    this.close();
    const names = rotatedNames(this.path, this.opts.keep);
    // The file the rotation drops is moved aside and removed by an async call, on
    // another thread: freeing a file's blocks, which renaming over it or truncating it
    // does in the calling thread, takes 3-6 ms for 10 MiB here and 26 ms for 130 MB
    // (ext4), and a child would wait for it in a full pipe (bench/RESULTS.md).
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
}
