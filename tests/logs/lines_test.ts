import { assertEquals } from "../assert.ts";
import { LineBlocks } from "../../lib/logs/lines.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** Every line the blocks of `chunks` hold, in order, the final unterminated one included. */
function linesOf(chunks: Uint8Array[], opts: { maxLine?: number } = {}): string[] {
  const b = new LineBlocks(opts);
  const out: string[] = [];
  for (const c of chunks) for (const block of b.push(c)) out.push(...block.split("\n"));
  const last = b.end();
  if (last !== null) out.push(...last.split("\n"));
  return out;
}

Deno.test("lines: chunk boundaries inside a line and inside a multi-byte character", () => {
  const bytes = enc("héllo\nwörld\n");
  const chunks = Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
  assertEquals(linesOf(chunks), ["héllo", "wörld"]);
});

Deno.test("lines: a chunk completes a block of lines at once; CRLF, empty lines, a final line without newline", () => {
  const b = new LineBlocks();
  assertEquals(b.push(enc("a\r\n\nb\r\nlast")), ["a\n\nb"]);
  // The line finished from the carry comes alone; the chunk's own lines come as one block.
  assertEquals(b.push(enc(" line\nx\ny\n")), ["last line", "x\ny"]);
  assertEquals(b.push(enc("\n")), [""]);
  assertEquals(b.end(), null);
  assertEquals(new LineBlocks().push(enc("no newline yet")), []);
  const c = new LineBlocks();
  c.push(enc("tail"));
  assertEquals(c.end(), "tail");
});

Deno.test("lines: a line longer than the cap is split", () => {
  assertEquals(linesOf([enc("ab€€€€\n")], { maxLine: 4 }), ["ab€€", "€€"]);
  assertEquals(linesOf([enc("abcdefghij")], { maxLine: 4 }), ["abcd", "efgh", "ij"]);
  // A long line spread over chunks is cut as it grows, and the rest comes with its newline.
  assertEquals(linesOf([enc("abcdef"), enc("ghij\nk\n")], { maxLine: 4 }), [
    "abcd",
    "efgh",
    "ij",
    "k",
  ]);
});

Deno.test("lines: invalid UTF-8 becomes U+FFFD", () => {
  assertEquals(linesOf([new Uint8Array([0x61, 0xff, 0xfe, 0x62, 10])]), ["a\ufffd\ufffdb"]);
});

/** A small seeded generator, so a failing case can be run again. */
function random(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

/** Bytes of mixed output: ASCII lines, CRLF, empty lines, multi-byte and invalid UTF-8, long lines. */
function mixedOutput(rnd: (n: number) => number): Uint8Array {
  const pieces = [
    "plain line",
    "",
    "crlf\r",
    "héllo wörld €",
    "\u{1F600}",
    "x".repeat(70),
    "tab\tend",
  ];
  const out: number[] = [];
  for (let i = 0; i < 60; i++) {
    const k = rnd(10);
    if (k < 7) out.push(...enc(pieces[k]!));
    else if (k === 7) out.push(0xff, 0xe2, 0x82); // invalid, then a sequence cut short
    else if (k === 8) out.push(...enc("y".repeat(rnd(40))));
    if (rnd(3) !== 0) out.push(10);
  }
  return Uint8Array.from(out);
}

Deno.test("lines: pushRaw gives the lines push gives, its raw blocks made text by text(), over random splits", () => {
  for (let seed = 1; seed <= 300; seed++) {
    const rnd = random(seed);
    const bytes = mixedOutput(rnd);
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < bytes.length;) {
      const n = 1 + rnd(48);
      chunks.push(bytes.subarray(at, at + n));
      at += n;
    }
    const maxLine = 8 + rnd(100);
    const raw = new LineBlocks({ maxLine });
    const got: string[] = [];
    for (const c of chunks) {
      for (const block of raw.pushRaw(c)) {
        const text = typeof block === "string" ? block : raw.text(block);
        got.push(...text.split("\n"));
      }
    }
    const last = raw.end();
    if (last !== null) got.push(...last.split("\n"));
    assertEquals(got, linesOf(chunks, { maxLine }), `seed ${seed}`);
  }
});

Deno.test("lines: pushRaw hands out the whole lines after the first as their bytes", () => {
  const b = new LineBlocks();
  assertEquals(b.pushRaw(enc("par")), []);
  const blocks = b.pushRaw(enc("t one\nx\ny\nrest"));
  assertEquals(blocks.length, 2);
  assertEquals(blocks[0], "part one");
  assertEquals(new TextDecoder().decode(blocks[1] as Uint8Array), "x\ny\n");
  assertEquals(b.end(), "rest");
});

Deno.test("lines: after a chunk that ends a line, the next chunk's lines all come back as bytes", () => {
  const b = new LineBlocks();
  const dec = new TextDecoder();
  const raw = (block: string | Uint8Array | undefined) => {
    if (!(block instanceof Uint8Array)) throw new Error(`expected bytes, got ${block}`);
    return dec.decode(block);
  };
  // The first chunk of all begins a line too.
  const first = b.pushRaw(enc("one\n"));
  assertEquals(first.map(raw), ["one\n"]);
  const second = b.pushRaw(enc("two\nthree\npar"));
  assertEquals(second.map(raw), ["two\nthree\n"]);
  // A line begun in the last chunk is decoded; then bytes again once a chunk ends a line.
  assertEquals(b.pushRaw(enc("tial\nfour\n")).map((x) => typeof x === "string" ? x : raw(x)), [
    "partial",
    "four\n",
  ]);
  assertEquals(b.pushRaw(enc("five\n")).map(raw), ["five\n"]);
  assertEquals(b.end(), null);
});
