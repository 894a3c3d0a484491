/**
 * One server's log capture: lines from the child's pipes go, in order, to the
 * ring, to the log file and, while somebody follows, to a batch handed out on
 * each flush. The file is written as soon as a read drains the pipe (the
 * child has no more for now), else once {@link FLUSH_BYTES} wait, else
 * {@link FLUSH_MS} after they came: a flood is written in large batches, and
 * a server that writes a line at a time costs no timer per line (its
 * wake-ups were most of a calm daemon's CPU: bench/RESULTS.md, "What each change bought", 18).
 * Pipes are read continuously whatever the file or the followers do, so a
 * chatty child is never blocked.
 *
 * Followers' lines go through a FollowQueue (follow.ts), paced by whoever
 * takes them.
 */
import { type Clock, systemClock, type TimerId } from "../clock.ts";
import { chunkReader, PIPE_DEFAULT } from "./chunk_reader.ts";
import { LineBlocks } from "./lines.ts";
import { LogFile } from "./log_file.ts";
import type { Segment } from "./rotating_file.ts";
import { type LogLine, LogRing, type Stream } from "./ring.ts";
import { type FollowBatch, FollowQueue } from "./follow.ts";

const NEWLINE = new Uint8Array([10]);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Flush the log file after this long… */
export const FLUSH_MS = 20;
/** …or at once when this many bytes wait. */
export const FLUSH_BYTES = 256 * 1024;
/** Lines read from the files when the ring is empty and no tail was asked for. */
const DEFAULT_FILE_TAIL = 100;

/**
 * What a `logs` request gets: lines from the ring, or the files to read
 * `want` lines from; and how many lines had been numbered for followers by
 * then (`sent`, FollowBatch): the tail holds those, so a follower drops
 * them when they come.
 */
export type LogTail =
  & ({ readonly lines: LogLine[] } | { readonly files: Segment[]; readonly want: number })
  & { readonly sent: number };

/** Options of {@link LogCapture}. */
export interface CaptureOptions {
  readonly path: string;
  readonly maxSize: number;
  readonly keep: number;
  readonly clock?: Clock;
  /**
   * How many lines were numbered for followers before this capture (by the
   * actor it replaces): a follower's tail covers lines by number, so
   * numbers must not start again.
   */
  readonly numberedBefore?: number;
  /** Receives each follow batch while following is on; {@link LogCapture.taken} says it was handled (follow.ts). */
  readonly onFollowLines?: (batch: FollowBatch) => void;
  /** Called when the count of lines that could not be written changed. */
  readonly onWriteErrors?: () => void;
}

/** A pipe being read: `done` once it ended, `cancel` to stop reading it. */
export interface PipeReader {
  readonly done: Promise<void>;
  cancel(): Promise<void>;
}

/** The log capture of one server. */
export class LogCapture {
  readonly #file: LogFile;
  readonly #ring = new LogRing();
  readonly #clock: Clock;
  readonly #opts: CaptureOptions;
  #flushTimer: TimerId | null = null;
  readonly #follow: FollowQueue;

  constructor(opts: CaptureOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#follow = new FollowQueue((b) => opts.onFollowLines?.(b), opts.numberedBefore);
    this.#file = new LogFile(opts.path, { maxSize: opts.maxSize, keep: opts.keep });
  }

  /** The log file's path. */
  get path(): string {
    return this.#file.path;
  }

  /** Lines that could not be written to the file. */
  get writeErrors(): number {
    return this.#file.writeErrors;
  }

  /** Turns collecting lines for followers on or off. */
  follow(on: boolean): void {
    this.#follow.follow(on);
  }

  /** The follow batch handed out last was handled: what gathered since goes out. */
  taken(): void {
    this.#follow.taken();
  }

  /**
   * Reads `stream` until it ends or is cancelled, a block of whole lines at a
   * time; `resize` sets the capacity of its pipe (chunk_reader.ts).
   */
  attach(
    stream: ReadableStream<Uint8Array>,
    name: Stream,
    resize?: (bytes: number) => boolean,
  ): PipeReader {
    const reader = chunkReader(stream, resize);
    const lines = new LineBlocks();
    const text = (raw: Uint8Array) => lines.text(raw);
    const done = (async () => {
      try {
        while (true) {
          const value = await reader.read();
          if (value === null) break;
          const ts = this.#clock.now();
          // A widened pipe's chunk is taken in slices of a default pipe's: the file's
          // batches, the prefix module's memory and the flushes stay as they were.
          for (let at = 0; at < value.length; at += PIPE_DEFAULT) {
            const slice = value.length <= PIPE_DEFAULT
              ? value
              : value.subarray(at, at + PIPE_DEFAULT);
            this.#ring.pushChunk(name, ts, slice);
            for (const block of lines.pushRaw(slice)) this.#take(name, ts, block, text);
          }
          this.#settle(!reader.full);
        }
      } catch {
        // Cancelled, or the pipe broke: keep what was read.
      }
      const last = lines.end();
      if (last !== null) {
        const ts = this.#clock.now();
        // The ring keeps bytes: the line it had no end for gets one.
        this.#ring.pushChunk(name, ts, NEWLINE);
        this.#take(name, ts, last, text);
      }
      this.#settle(true);
    })();
    return {
      done,
      cancel: async () => {
        await reader.cancel().catch(() => {});
        await done;
      },
    };
  }

  /**
   * One line that did not come through a pipe this capture reads: what a
   * stdio server printed on its stdout that is not protocol, or a message it
   * exchanged (`log-messages`).
   */
  line(stream: Stream, text: string): void {
    const ts = this.#clock.now();
    this.#ring.pushChunk(stream, ts, encoder.encode(`${text}\n`));
    this.#take(stream, ts, text, (raw) => decoder.decode(raw));
    this.#settle(true);
  }

  /** Writes what is buffered to the file and hands the follow batch out. */
  flush(): void {
    if (this.#flushTimer !== null) this.#clock.clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    this.#writeFile();
    this.#follow.flush();
  }

  #writeFile() {
    const errors = this.#file.writeErrors;
    this.#file.flush();
    if (this.#file.writeErrors !== errors) this.#opts.onWriteErrors?.();
  }

  /**
   * After a chunk: when it drained the pipe, its lines go to the file now;
   * what still waits (the file's lines, or the followers') goes within
   * {@link FLUSH_MS}.
   */
  #settle(drained: boolean) {
    if (drained) this.#writeFile();
    const waiting = this.#file.pendingBytes > 0 || this.#follow.ready;
    if (waiting && this.#flushTimer === null) {
      this.#flushTimer = this.#clock.setTimeout(() => this.flush(), FLUSH_MS);
    }
  }

  /**
   * The last `tail` lines (all the ring holds when undefined), of `stream`
   * when given: from the ring when it holds enough, else the files to read
   * them from (flushed first, so they hold every line up to now).
   */
  tail(tail: number | undefined, stream: Stream | undefined): LogTail {
    // Every line numbered for followers so far is in the tail (segments()
    // flushes the file), the ones still to go out included.
    const sent = this.#follow.numbered;
    const fromRing = this.#ring.tail(tail, stream);
    const want = tail ?? (fromRing.length === 0 ? DEFAULT_FILE_TAIL : 0);
    if (fromRing.length >= want) return { lines: fromRing, sent };
    return { files: this.#file.segments(), want, sent };
  }

  /** The last `n` stderr lines the ring holds. */
  stderrTail(n: number): string[] {
    return this.#ring.tail(n, "stderr").map((l) => l.line);
  }

  /** Flushes and closes the file. */
  close(): void {
    this.flush();
    this.#file.close();
  }

  /**
   * One block of lines, read at `ts`, as text or raw (lines.ts; `text` makes a
   * raw one text): to the file and the followers (the ring has the bytes).
   */
  #take(stream: Stream, ts: number, block: string | Uint8Array, text: (raw: Uint8Array) => string) {
    if (typeof block === "string") this.#file.appendBlock(stream, ts, block);
    else this.#file.appendRaw(stream, ts, block, text);
    // Made text only while somebody follows.
    if (this.#follow.on) {
      this.#follow.add(stream, ts, typeof block === "string" ? block : text(block));
    }
    if (this.#file.pendingBytes >= FLUSH_BYTES) this.flush();
  }
}
