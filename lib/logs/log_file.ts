/**
 * A server's log file: lines are buffered and written in batches, rotated at
 * `maxSize` keeping `keep` old files (`name.log.1` newest), and reopened by
 * name when a write fails or the file disappears. Writes are synchronous on
 * purpose: the writer lives in the server's own worker, ordering is then
 * given, and a page-cache write is far shorter than the time it saves in
 * promise bookkeeping.
 */
import { errorMessage } from "../errors.ts";
import type { Stream } from "./ring.ts";

/** Formats one file line: `<ISO time> [out] <line>`. */
export function formatFileLine(iso: string, stream: Stream, line: string): string {
  return `${iso} ${stream === "stdout" ? "[out]" : "[err]"} ${line}\n`;
}

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

/** The rotating, batching log file of one server. */
export class LogFile {
  #file: Deno.FsFile | null = null;
  #ino: number | null = null;
  #size = 0;
  #pending: string[] = [];
  #pendingChars = 0;
  #lastTs = -1;
  #lastIso = "";
  /** Lines that could not be written to the file. */
  writeErrors = 0;
  /** The last write error, for status. */
  lastWriteError: string | null = null;

  constructor(
    readonly path: string,
    readonly opts: { readonly maxSize: number; readonly keep: number },
  ) {}

  /** Buffers one line; call {@link flush} to write. */
  append(stream: Stream, line: string, ts: number): void {
    if (ts !== this.#lastTs) {
      this.#lastTs = ts;
      this.#lastIso = new Date(ts).toISOString();
    }
    const text = formatFileLine(this.#lastIso, stream, line);
    this.#pending.push(text);
    this.#pendingChars += text.length;
  }

  /** Characters buffered and not yet written. */
  get pendingChars(): number {
    return this.#pendingChars;
  }

  /** Writes everything buffered, rotating where the size limit falls. */
  flush(): void {
    if (this.#pending.length === 0) return;
    const lines = this.#pending;
    this.#pending = [];
    this.#pendingChars = 0;
    try {
      this.#ensureOpen();
      const bytes = encoder.encode(lines.join(""));
      if (this.#size + bytes.length <= this.opts.maxSize) {
        this.#write(bytes);
        return;
      }
      // Crosses the limit: write line by line so the cut falls between lines.
      let batch: string[] = [];
      let batchBytes = 0;
      for (const line of lines) {
        const n = encoder.encode(line).length;
        if (this.#size + batchBytes + n > this.opts.maxSize && this.#size + batchBytes > 0) {
          this.#write(encoder.encode(batch.join("")));
          batch = [];
          batchBytes = 0;
          this.#rotate();
        }
        batch.push(line);
        batchBytes += n;
      }
      if (batch.length) this.#write(encoder.encode(batch.join("")));
      this.lastWriteError = null;
    } catch (e) {
      this.writeErrors += lines.length;
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
    if (this.#file) {
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
    if (names.length === 0) {
      Deno.truncateSync(this.path, 0);
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
