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
