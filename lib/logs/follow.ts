/**
 * The lines of one capture on their way to followers (capture.ts), paced by
 * whoever takes them: one batch is out at a time, the next gathers until
 * {@link FollowQueue.taken} says the last was handled, and past
 * {@link FOLLOW_BATCH_BYTES} its lines are only counted as dropped. A daemon
 * thread slower than a flooding capture so holds a bounded backlog.
 *
 * Lines are numbered from the start, dropped ones too, and on from where an
 * actor this one replaces left off: a follower's tail says up to which
 * number it holds the lines, and those come to it once only.
 */
import { countNewlines } from "./lines.ts";
import type { Stream } from "./ring.ts";

/**
 * Bytes of lines a follow batch gathers while the one before is out; past
 * them lines are dropped for followers, a block at a time (they are in the
 * ring and the file). It matches a follower's share of its connection
 * (FOLLOWER_QUEUE_BYTES in subscriptions.ts): a burst a follower could take
 * whole is not cut here.
 */
export const FOLLOW_BATCH_BYTES = 8 * 1024 * 1024;
/** What a line is counted as against {@link FOLLOW_BATCH_BYTES}, beside its text. */
const LINE_OVERHEAD = 64;

/**
 * Lines read together: one stream, one time, and `text`, the `lines` lines
 * joined by `\n`. A worker posts a few strings, not an object per line (a
 * batch of 80,000 lines between threads: 18–48 ms rather than 100–180).
 */
export interface FollowBlock {
  readonly stream: Stream;
  readonly ts: number;
  readonly text: string;
  readonly lines: number;
}

/**
 * Lines for followers: the `lines` lines of `blocks` are followed by
 * `dropped` dropped ones, the last of which is number `sent`.
 */
export interface FollowBatch {
  readonly blocks: FollowBlock[];
  readonly lines: number;
  readonly sent: number;
  readonly dropped: number;
  /** How many of the dropped lines were stderr's. */
  readonly droppedStderr: number;
}

/**
 * The lines of `block` from its `from`th (counted from 0), made one at a
 * time: a follower that stops taking them leaves the rest of a flood's block
 * unsplit (a block of 8 MiB of `yes` is four million lines).
 */
export function* linesOf(block: FollowBlock, from = 0): Generator<string> {
  const text = block.text;
  let at = 0;
  for (let i = 0; i < block.lines; i++) {
    const end = text.indexOf("\n", at);
    if (i >= from) yield end < 0 ? text.slice(at) : text.slice(at, end);
    if (end < 0) return;
    at = end + 1;
  }
}

/** How many of a batch's dropped lines a follower of `stream` (or of both) missed. */
export function droppedOf(batch: FollowBatch, stream: Stream | undefined): number {
  if (stream === undefined) return batch.dropped;
  return stream === "stderr" ? batch.droppedStderr : batch.dropped - batch.droppedStderr;
}

/** The follow batch being gathered, and whether the one before is out. */
export class FollowQueue {
  readonly #handOut: (batch: FollowBatch) => void;
  /** Blocks not handed out yet; null while nobody follows. */
  #blocks: FollowBlock[] | null = null;
  #lines = 0;
  #bytes = 0;
  #dropped = 0;
  #droppedStderr = 0;
  #out = false;
  #numbered: number;

  /** `numberedBefore`: the lines an actor this one replaces numbered. */
  constructor(handOut: (batch: FollowBatch) => void, numberedBefore = 0) {
    this.#handOut = handOut;
    this.#numbered = numberedBefore;
  }

  /** Lines numbered so far, dropped ones and those still to go out included. */
  get numbered(): number {
    return this.#numbered;
  }

  /** Whether lines are gathered at all: only while somebody follows. */
  get on(): boolean {
    return this.#blocks !== null;
  }

  /** Whether a batch could go out now: lines wait, kept or dropped, and none is out. */
  get ready(): boolean {
    return !this.#out && (this.#lines > 0 || this.#dropped > 0);
  }

  /** Turns gathering on or off; off forgets what waits. */
  follow(on: boolean): void {
    if (on) this.#blocks ??= [];
    else {
      this.#blocks = null;
      this.#reset();
    }
  }

  /** A block of lines read at `ts` (`text`: the lines joined by `\n`). */
  add(stream: Stream, ts: number, text: string): void {
    const blocks = this.#blocks;
    if (blocks === null) return;
    // A block holds one line more than its newlines: they only join its lines.
    const lines = countNewlines(text) + 1;
    this.#numbered += lines;
    if (this.#bytes > FOLLOW_BATCH_BYTES) {
      this.#dropped += lines;
      if (stream === "stderr") this.#droppedStderr += lines;
      return;
    }
    blocks.push({ stream, ts, text, lines });
    this.#lines += lines;
    this.#bytes += text.length + lines * LINE_OVERHEAD;
  }

  /** Hands the batch out, unless the last is not taken yet. */
  flush(): void {
    const blocks = this.#blocks;
    if (blocks === null || !this.ready) return;
    const batch = {
      blocks,
      lines: this.#lines,
      sent: this.#numbered,
      dropped: this.#dropped,
      droppedStderr: this.#droppedStderr,
    };
    this.#blocks = [];
    this.#reset();
    this.#out = true;
    this.#handOut(batch);
  }

  /** The batch handed out last was handled: what gathered since goes out. */
  taken(): void {
    this.#out = false;
    this.flush();
  }

  #reset() {
    this.#lines = 0;
    this.#bytes = 0;
    this.#dropped = 0;
    this.#droppedStderr = 0;
  }
}
