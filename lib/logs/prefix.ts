/**
 * The log file's prefix insertion for plain output, in WebAssembly: a block
 * of whole lines, as bytes, becomes `<prefix><line>` for each line, with no
 * string made and no UTF-8 decoded or encoded. It takes only bytes below
 * 0x80 and no carriage return (SIMD checks 16 bytes at a time); for anything
 * else it answers null, and the caller decodes (lines.ts) as it would
 * otherwise. Measured apart on the million lines of the benchmark: 27 ms
 * against 83 ms for decoding, `replaceAll` and `encodeInto`; the module's own
 * loop 14–21 ms per 100 MB (bench/RESULTS.md). A one-pass variant for long
 * prefixes (10–12 ms per 100 MB alone) was dropped: the whole capture with it
 * measured within the noise. The module is prefix.wat compiled with wabt 1.0.39
 * (tests/logs/prefix_test.ts checks that these bytes are that file's).
 */

/** prefix.wat, compiled. */
export const PREFIX_WASM =
  "AGFzbQEAAAABCgFgBX9/f39/AX8DAgEABQMBAAEHEwIGbWVtb3J5AgAGcHJlZml4AAAK9gEB8wECB38DeyAD/QAEACENIAP9AAQQIQ4gAiEFIAUgDf0LBAAgBSAO/QsEECAFIARqIQUCQANAIAYgAU8NASAAIAZq/QAEACEMIAz9ZCAMQQ39D/0j/WRyBEBBfw8LIAxBCv0P/SP9ZCEIAkADQCAIRQ0BIAYgCGhqIQkgCUEBaiAHayEKQQAhCwNAIAUgC2ogACAHaiALav0ABAD9CwQAIAtBEGohCyALIApJDQALIAUgCmohBSAJQQFqIQcgBSAN/QsEACAFIA79CwQQIAUgBGohBSAIIAhBAWtxIQgMAAsLIAZBEGohBgwACwsgBSAEayACaws=";

/** The longest prefix the module copies: two 16-byte stores. */
export const MAX_PREFIX = 32;
/** Zeros after the source, which the last 16-byte load may read. */
const SRC_PAD = 16;
/** Room past the output, which the 16-byte copies may overrun. */
const DST_SLACK = 48;
const PAGE = 64 * 1024;

type PrefixFn = (src: number, len: number, dst: number, pfx: number, plen: number) => number;

/** One instance per thread, made on first use: a server that never logs pays nothing. */
export class PrefixInserter {
  readonly #memory: WebAssembly.Memory;
  readonly #prefix: PrefixFn;
  /** A view of the memory, made again when it grows. */
  #heap: Uint8Array;

  constructor() {
    const bytes = Uint8Array.from(atob(PREFIX_WASM), (c) => c.charCodeAt(0));
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    this.#memory = instance.exports.memory as WebAssembly.Memory;
    this.#prefix = instance.exports.prefix as PrefixFn;
    this.#heap = new Uint8Array(this.#memory.buffer);
  }

  /**
   * `lines` (whole lines, the last ending in \n) with the first `plen` bytes
   * of `prefix` before each, as a view valid until the next call; null when a
   * byte is 0x80 or more, or a carriage return: such output takes the
   * decoding path.
   */
  insert(lines: Uint8Array, prefix: Uint8Array, plen: number = prefix.length): Uint8Array | null {
    if (plen > MAX_PREFIX) return null;
    const len = lines.length;
    // Prefix at 0, source after it, then the output: at most one prefix per byte.
    const src = MAX_PREFIX;
    const dst = src + len + SRC_PAD;
    const need = dst + len + (len + 1) * plen + DST_SLACK;
    const have = this.#heap.length;
    if (need > have) {
      this.#memory.grow(Math.ceil((need - have) / PAGE));
      this.#heap = new Uint8Array(this.#memory.buffer);
    }
    const heap = this.#heap;
    for (let i = 0; i < plen; i++) heap[i] = prefix[i]!;
    heap.set(lines, src);
    heap.fill(0, src + len, src + len + SRC_PAD);
    const n = this.#prefix(src, len, dst, 0, plen);
    return n < 0 ? null : heap.subarray(dst, dst + n);
  }
}
