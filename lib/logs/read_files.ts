/**
 * Reading a server's log lines back from its files, for a tail longer than
 * the ring holds. Asynchronous and in bounded chunks: a scan backwards finds
 * where the last `n` lines begin, then they are read forwards and handed out
 * in batches, so a tail of any length never holds more than a chunk or a
 * batch in memory and never blocks capture.
 *
 * The files are named by what they were when the tail was asked (inode and
 * size, newest first: see {@link LogFile.segments}), so a rotation during the
 * read changes nothing; a file rotated away before it was opened ends the
 * tail with an error instead of leaving a hole.
 */
import type { LogLine, Stream } from "./ring.ts";
import { HEAD_BYTES, rotatedNames, type Segment } from "./rotating_file.ts";

const LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) \[(out|err)\] (.*)$/s;
const CHUNK = 64 * 1024;
/** Bytes of one line past which it is not one of xy's (lines are split at 64 KiB). */
const MAX_FILE_LINE = 256 * 1024;
const NL = 10;
const decoder = new TextDecoder();

/** Parses one file line; undefined for a line that is not in xy's format. */
export function parseFileLine(text: string): LogLine | undefined {
  const m = LINE.exec(text);
  if (!m) return undefined;
  return { ts: Date.parse(m[1]!), stream: m[2] === "out" ? "stdout" : "stderr", line: m[3]! };
}

/** True when the file line in `bytes` is an xy line of `stream` (any stream when undefined). */
function counts(bytes: Uint8Array, stream: Stream | undefined): boolean {
  // `<24-char time> [out] …`: the tag sits at a fixed place.
  if (bytes.length < 30 || bytes[24] !== 32 || bytes[25] !== 91 || bytes[29] !== 93) return false;
  if (!stream) return true;
  return bytes[26] === (stream === "stdout" ? 111 : 101); // "o"ut or "e"rr
}

/** Options of {@link readTail}. */
export interface TailOptions {
  /** The server's log file; its rotated files are `<path>.1` … `<path>.<keep>`. */
  readonly path: string;
  readonly keep: number;
  /** The files to read, newest first. */
  readonly segments: readonly Segment[];
  /** How many lines. */
  readonly n: number;
  readonly stream?: Stream;
  /** The most lines handed out at once. */
  readonly batch?: number;
}

/** The last `n` lines (of `stream`, when given), oldest first, in batches. */
export async function* readTail(opts: TailOptions): AsyncGenerator<LogLine[]> {
  const files: { file: Deno.FsFile; size: number }[] = [];
  try {
    // Backwards, newest file first, until n lines are counted: where do they begin?
    let start = { index: 0, offset: 0 };
    let found = 0;
    for (let i = 0; i < opts.segments.length && found < opts.n; i++) {
      const seg = opts.segments[i]!;
      const file = await openSegment(opts.path, opts.keep, seg);
      files.push({ file, size: seg.size });
      start = { index: i, offset: 0 };
      for await (const lineStart of linesBackward(file, seg.size, opts.stream)) {
        if (++found === opts.n) {
          start = { index: i, offset: lineStart };
          break;
        }
      }
    }
    if (files.length === 0) return;
    // Forwards from there, oldest file first.
    let batch: LogLine[] = [];
    for (let i = start.index; i >= 0; i--) {
      const { file, size } = files[i]!;
      const from = i === start.index ? start.offset : 0;
      for await (const bytes of linesForward(file, from, size)) {
        if (!counts(bytes, opts.stream)) continue;
        const line = parseFileLine(decoder.decode(bytes));
        if (!line) continue;
        batch.push(line);
        if (batch.length >= (opts.batch ?? 1000)) {
          yield batch;
          batch = [];
        }
      }
    }
    if (batch.length) yield batch;
  } finally {
    for (const { file } of files) file.close();
  }
}

/** Opens the file that has `seg`'s inode, wherever rotation has moved it by now. */
async function openSegment(path: string, keep: number, seg: Segment): Promise<Deno.FsFile> {
  for (const name of [path, ...rotatedNames(path, keep)]) {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(name, { read: true });
    } catch {
      continue;
    }
    if ((await file.stat()).ino === seg.ino) {
      const head = decoder.decode(await readAt(file, 0, Math.min(HEAD_BYTES, seg.size)));
      if (head === seg.head) return file;
    }
    file.close();
  }
  throw new Error(`${path}: a log file was rotated away while its lines were being read`);
}

/** The start offsets of the lines of `file[0, size)` that count, last line first. */
async function* linesBackward(
  file: Deno.FsFile,
  size: number,
  stream: Stream | undefined,
): AsyncGenerator<number> {
  let pos = size;
  // Bytes from `pos` to the end of the line being assembled (without its newline).
  let pending: Uint8Array = new Uint8Array(0);
  while (pos > 0) {
    const from = Math.max(0, pos - CHUNK);
    const chunk = await readAt(file, from, pos - from);
    const buf = concat(chunk, pending);
    let end = buf.length;
    for (let i = buf.length - 1; i >= 0; i--) {
      if (buf[i] !== NL) continue;
      if (counts(buf.subarray(i + 1, end), stream)) yield from + i + 1;
      end = i;
    }
    pending = buf.subarray(0, end);
    // A "line" this long is not one of xy's: skip it rather than hold it.
    if (pending.length > MAX_FILE_LINE) pending = new Uint8Array(0);
    pos = from;
  }
  if (counts(pending, stream)) yield 0;
}

/** The lines of `file[from, size)`, without their newlines. */
async function* linesForward(file: Deno.FsFile, from: number, size: number) {
  let pos = from;
  let carry: Uint8Array = new Uint8Array(0);
  while (pos < size) {
    const chunk = await readAt(file, pos, Math.min(CHUNK * 4, size - pos));
    pos += chunk.length;
    const buf = concat(carry, chunk);
    let start = 0;
    for (let nl = buf.indexOf(NL); nl !== -1; nl = buf.indexOf(NL, start)) {
      yield buf.subarray(start, nl);
      start = nl + 1;
    }
    carry = buf.slice(start);
    if (carry.length > MAX_FILE_LINE) carry = new Uint8Array(0);
  }
  if (carry.length) yield carry;
}

async function readAt(file: Deno.FsFile, offset: number, length: number): Promise<Uint8Array> {
  await file.seek(offset, Deno.SeekMode.Start);
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = await file.read(buf.subarray(got));
    if (n === null) break;
    got += n;
  }
  return buf.subarray(0, got);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
