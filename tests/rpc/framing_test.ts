import { assertEquals } from "../assert.ts";
import { LineFramer } from "../../lib/rpc/framing.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("framing: lines split across chunks are joined, several in one chunk are split", () => {
  const f = new LineFramer(100);
  assertEquals(f.push(enc('{"a":')), []);
  assertEquals(f.push(enc('1}\n{"b":2}\n{"c"')), [{ line: '{"a":1}' }, { line: '{"b":2}' }]);
  assertEquals(f.push(enc(":3}\n")), [{ line: '{"c":3}' }]);
});

Deno.test("framing: a line over the cap is reported once, across chunks too", () => {
  const f = new LineFramer(10);
  assertEquals(f.push(enc("12345")), []);
  assertEquals(f.push(enc("678901234\n")), [{ oversized: true }]);
  const g = new LineFramer(10);
  assertEquals(g.push(enc("ok\n" + "x".repeat(11))), [{ line: "ok" }, { oversized: true }]);
});

Deno.test("framing: a multi-byte character split across chunks decodes whole", () => {
  const f = new LineFramer(100);
  const bytes = enc("é\n");
  assertEquals(f.push(bytes.subarray(0, 1)), []);
  assertEquals(f.push(bytes.subarray(1)), [{ line: "é" }]);
});
