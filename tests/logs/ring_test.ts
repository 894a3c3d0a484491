import { assertEquals } from "../assert.ts";
import { LogRing } from "../../lib/logs/ring.ts";

Deno.test("ring: evicts the oldest lines by bytes and tails by stream", () => {
  const r = new LogRing(200);
  for (let i = 0; i < 20; i++) {
    r.push({ stream: i % 2 ? "stderr" : "stdout", line: `line ${i}`, ts: i });
  }
  const all = r.tail();
  assertEquals(all.at(-1)!.line, "line 19");
  assertEquals(r.bytes <= 200, true);
  assertEquals(all.length < 20, true);
  assertEquals(r.tail(2).map((l) => l.line), ["line 18", "line 19"]);
  assertEquals(r.tail(2, "stderr").map((l) => l.line), ["line 17", "line 19"]);
});

Deno.test("ring: one line bigger than the capacity is still kept, alone", () => {
  const r = new LogRing(50);
  r.push({ stream: "stdout", line: "short", ts: 1 });
  r.push({ stream: "stdout", line: "x".repeat(100), ts: 2 });
  assertEquals(r.length, 1);
  assertEquals(r.tail()[0]!.ts, 2);
});

Deno.test("ring: many empty lines cannot grow it past its capacity", () => {
  const r = new LogRing(1024);
  for (let i = 0; i < 100_000; i++) r.push({ stream: "stdout", line: "", ts: i });
  assertEquals(r.bytes <= 1024, true);
  assertEquals(r.tail(1)[0]!.ts, 99_999);
});
