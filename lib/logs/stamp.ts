/**
 * The prefix of a log file's lines, `<ISO-8601 UTC time with ms> [out] ` (or
 * `[err]`), for the millisecond they were read in. The date and time are
 * formatted and encoded once a second; within it only the milliseconds' three
 * digits are written into the bytes. The prefix as text is made only for the
 * lines that need it (those that are not plain: lines.ts, prefix.ts). A
 * server that writes a line at a time reads each in a new millisecond, and a
 * `toISOString`, two strings and their encoding per line were 7% of a calm
 * capture's CPU (bench/RESULTS.md, "What each change bought", 18).
 */
import type { Stream } from "./ring.ts";

const encoder = new TextEncoder();
/** Room for a prefix's bytes: more than the longest (a year past 9999 makes 34). */
const ROOM = 64;
const TAG = { stdout: " [out] ", stderr: " [err] " } as const;
const ZERO = 48;

/** The prefixes of one log file's lines. */
export class Stamp {
  #ts = NaN;
  #second = NaN;
  /** Where the milliseconds' digits are in the bytes. */
  #msAt = 0;
  #length = 0;
  readonly #bytes = { stdout: new Uint8Array(ROOM), stderr: new Uint8Array(ROOM) };
  #text: { stdout: string; stderr: string } | null = null;

  /** The prefixes from now on are for `ts` (ms since the epoch). */
  at(ts: number): void {
    if (ts === this.#ts) return;
    this.#ts = ts;
    this.#text = null;
    // As Date does: the time in whole milliseconds, toward zero.
    const t = Math.trunc(ts);
    const ms = ((t % 1000) + 1000) % 1000;
    if (t - ms !== this.#second) {
      this.#second = t - ms;
      const iso = new Date(t).toISOString();
      this.#msAt = iso.length - 4;
      this.#length = encoder.encodeInto(iso + TAG.stdout, this.#bytes.stdout).written;
      encoder.encodeInto(iso + TAG.stderr, this.#bytes.stderr);
      return;
    }
    const at = this.#msAt;
    const d0 = ZERO + Math.floor(ms / 100);
    const d1 = ZERO + (Math.floor(ms / 10) % 10);
    const d2 = ZERO + (ms % 10);
    const out = this.#bytes.stdout;
    const err = this.#bytes.stderr;
    out[at] = err[at] = d0;
    out[at + 1] = err[at + 1] = d1;
    out[at + 2] = err[at + 2] = d2;
  }

  /** The prefix's bytes for `stream`: the first {@link length} of this buffer. */
  bytes(stream: Stream): Uint8Array {
    return this.#bytes[stream];
  }

  /** How many bytes the prefix is (the same for both streams). */
  get length(): number {
    return this.#length;
  }

  /** The prefix as text. */
  text(stream: Stream): string {
    if (this.#text === null) {
      const iso = new Date(Math.trunc(this.#ts)).toISOString();
      this.#text = { stdout: iso + TAG.stdout, stderr: iso + TAG.stderr };
    }
    return this.#text[stream];
  }
}
