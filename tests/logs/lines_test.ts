import { assertEquals } from "../assert.ts";
import { LineSplitter } from "../../lib/logs/lines.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("lines: chunk boundaries inside a line and inside a multi-byte character", () => {
  const s = new LineSplitter();
  const bytes = enc("héllo\nwörld\n");
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i++) out.push(...s.push(bytes.subarray(i, i + 1)));
  assertEquals(out, ["héllo", "wörld"]);
});

Deno.test("lines: CRLF, empty lines, and a final line without newline", () => {
  const s = new LineSplitter();
  assertEquals(s.push(enc("a\r\n\nb\r\nlast")), ["a", "", "b"]);
  assertEquals(s.end(), ["last"]);
  assertEquals(s.end(), []);
});

Deno.test("lines: a line longer than the cap is split at a character boundary", () => {
  const s = new LineSplitter({ maxLine: 8 });
  // "€" is 3 bytes: 8 bytes would cut the third one in half.
  assertEquals(s.push(enc("ab€€€€\n")), ["ab€€", "€€"]);
  const long = new LineSplitter({ maxLine: 4 });
  assertEquals(long.push(enc("abcdefghij")), ["abcd", "efgh"]);
  assertEquals(long.end(), ["ij"]);
});

Deno.test("lines: invalid UTF-8 becomes U+FFFD", () => {
  const s = new LineSplitter();
  assertEquals(s.push(new Uint8Array([0x61, 0xff, 0xfe, 0x62, 10])), ["a\ufffd\ufffdb"]);
});
