/**
 * Reading a child's pipe into one buffer of its own, reused from read to
 * read and sized to the flow. A pending read holds its buffer (a default
 * reader's is 64 KiB, two per server), so a quiet pipe is read into 1 KiB;
 * the buffer doubles whenever a read fills it, up to the pipe's capacity, and
 * halves when a read uses less than a sixteenth of it.
 *
 * A read that fills 64 KiB, a pipe's default capacity, means the pipe was
 * full: the child writes faster than it is read. The pipe is then widened to
 * 1 MiB through `resize` (lib/process/pipe_size.ts), and read in fewer,
 * larger reads; once the flow is calm again (the buffer back at 4 KiB) it is
 * narrowed to its default, so that floods, not servers, hold the user's pipe
 * quota (the kernel gives every new pipe of a user over it 8 KiB).
 */

/** The smallest buffer a pipe is read into. */
export const READ_MIN = 1024;
/** A pipe's capacity until it is widened. */
export const PIPE_DEFAULT = 64 * 1024;
/** A flooded pipe's capacity. */
export const PIPE_FLOOD = 1024 * 1024;
/** The buffer size at which a flood is over. */
const CALM = 4 * 1024;

/** Reads chunks of a pipe; a chunk is valid until the next read. */
export interface ChunkReader {
  /** The next chunk; null once the pipe ended. */
  read(): Promise<Uint8Array | null>;
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
      cancel: () => plain.cancel(),
    };
  }
  const reader = byob;
  let buf = new Uint8Array(READ_MIN);
  /** The pipe's capacity: no read returns more. */
  let capacity = PIPE_DEFAULT;
  /** Widening was tried in this flood (once: it scans the process's descriptors). */
  let tried = false;
  return {
    read: async (): Promise<Uint8Array | null> => {
      const { value, done } = await reader.read(buf);
      if (done || !value) return null;
      const size = value.buffer.byteLength;
      let next = size;
      if (value.byteLength === size) {
        if (size >= PIPE_DEFAULT && !tried && resize) {
          tried = true;
          if (resize(PIPE_FLOOD)) capacity = PIPE_FLOOD;
        }
        if (size < capacity) next = size * 2;
      } else if (value.byteLength < size / 16 && size > READ_MIN) {
        next = size / 2;
        if (tried && next <= CALM) {
          tried = false;
          if (capacity > PIPE_DEFAULT) resize?.(PIPE_DEFAULT);
          capacity = PIPE_DEFAULT;
        }
      }
      buf = new Uint8Array(next === size ? value.buffer as ArrayBuffer : new ArrayBuffer(next));
      return value;
    },
    cancel: () => reader.cancel(),
  };
}
