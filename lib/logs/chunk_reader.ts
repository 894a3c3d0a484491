/**
 * Reading a child's pipe into one buffer of its own, reused from read to
 * read and sized to the flow. A pending read holds its buffer (a default
 * reader's is 64 KiB, two per server), so a quiet pipe is read into 1 KiB;
 * the buffer doubles whenever a read fills it, up to the pipe's 64 KiB, and
 * halves when a read uses less than a sixteenth of it.
 *
 * A read that fills 64 KiB, a pipe's default capacity, means the pipe was
 * full: the child writes faster than it is read. The pipe is then widened to
 * 1 MiB through `resize` (lib/process/pipe_size.ts), so that a burst of up to
 * 1 MiB no longer blocks the child, and the buffer grows to 256 KiB: a flood
 * is read in a quarter of the reads. Not to 1 MiB: while a child floods, its
 * pipe is full whenever the daemon is busy with the last chunk, and is
 * drained only by the next read, so the longest the child waits is the time
 * the daemon takes over one chunk (bench/RESULTS.md, "What each change bought", 13). Once the
 * flow is calm again (the buffer back at 4 KiB) the pipe is narrowed to its
 * default, so that floods, not servers, hold the user's pipe quota (the
 * kernel gives every new pipe of a user over it 8 KiB).
 */

/** The smallest buffer a pipe is read into. */
export const READ_MIN = 1024;
/** A pipe's capacity until it is widened. */
export const PIPE_DEFAULT = 64 * 1024;
/** A flooded pipe's capacity. */
export const PIPE_FLOOD = 1024 * 1024;
/** The largest buffer a flooded pipe is read into. */
export const READ_FLOOD = 256 * 1024;
/** The buffer size at which a flood is over. */
const CALM = 4 * 1024;

/** Reads chunks of a pipe; a chunk is valid until the next read. */
export interface ChunkReader {
  /** The next chunk; null once the pipe ended. */
  read(): Promise<Uint8Array | null>;
  /**
   * Whether the last chunk filled the buffer it was read into, so the pipe
   * may hold more; false means it was drained. Always true for a stream that
   * is not a byte stream: nothing is known of its pipe.
   */
  readonly full: boolean;
  cancel(): Promise<void>;
}

/**
 * A reader of `stream`; `resize(bytes)` sets its pipe's capacity (false when
 * it cannot). Streams that are not byte streams (tests) are read the usual way.
 */
export function chunkReader(
  stream: ReadableStream<Uint8Array>,
  resize?: (bytes: number) => boolean,
): ChunkReader {
  let byob: ReadableStreamBYOBReader;
  try {
    byob = stream.getReader({ mode: "byob" });
  } catch {
    const plain = stream.getReader();
    return {
      read: async () => (await plain.read()).value ?? null,
      full: true,
      cancel: () => plain.cancel(),
    };
  }
  const reader = byob;
  let buf = new Uint8Array(READ_MIN);
  /** The largest read: the pipe's capacity, or {@link READ_FLOOD} once it is widened. */
  let largest = PIPE_DEFAULT;
  /** Widening was tried in this flood (once: it scans the process's descriptors). */
  let tried = false;
  let full = false;
  return {
    read: async (): Promise<Uint8Array | null> => {
      const { value, done } = await reader.read(buf);
      if (done || !value) return null;
      const size = value.buffer.byteLength;
      let next = size;
      full = value.byteLength === size;
      if (full) {
        if (size >= PIPE_DEFAULT && !tried && resize) {
          tried = true;
          if (resize(PIPE_FLOOD)) largest = READ_FLOOD;
        }
        if (size < largest) next = size * 2;
      } else if (value.byteLength < size / 16 && size > READ_MIN) {
        next = size / 2;
        if (tried && next <= CALM) {
          tried = false;
          if (largest > PIPE_DEFAULT) resize?.(PIPE_DEFAULT);
          largest = PIPE_DEFAULT;
        }
      }
      buf = new Uint8Array(next === size ? value.buffer as ArrayBuffer : new ArrayBuffer(next));
      return value;
    },
    get full() {
      return full;
    },
    cancel: () => reader.cancel(),
  };
}
