import { assert, assertEquals } from "../assert.ts";
import { type LogLine, LogRing } from "../../lib/logs/ring.ts";

const enc = (s: string) => new TextEncoder().encode(s);

/** One whole line into the ring, as a pipe's chunk holding just it. */
const push = (r: LogRing, l: LogLine) => r.pushChunk(l.stream, l.ts, enc(`${l.line}\n`));

Deno.test("ring: evicts the oldest lines by bytes and tails by stream", () => {
  const r = new LogRing(200);
  for (let i = 0; i < 40; i++) {
    push(r, { stream: i % 2 ? "stderr" : "stdout", line: `line ${i}`, ts: i });
  }
  const all = r.tail();
  assertEquals(all.at(-1)!.line, "line 39");
  assertEquals(r.bytes <= 200, true);
  assertEquals(all.length < 40, true);
  assertEquals(r.tail(2).map((l) => l.line), ["line 38", "line 39"]);
  assertEquals(r.tail(2, "stderr").map((l) => l.line), ["line 37", "line 39"]);
});

Deno.test("ring: lines are made from chunks as read, across chunk boundaries, each with its chunk's time", () => {
  const r = new LogRing();
  r.pushChunk("stdout", 1, enc("a\nb"));
  r.pushChunk("stderr", 2, enc("oops\n"));
  r.pushChunk("stdout", 3, enc("c\nd\npart"));
  assertEquals(r.tail().map((l) => `${l.stream}:${l.line}@${l.ts}`), [
    "stdout:a@1",
    "stderr:oops@2",
    "stdout:bc@3",
    "stdout:d@3",
  ]);
  assertEquals(r.tail(1, "stdout").map((l) => l.line), ["d"], "an unfinished line is not shown");
});

Deno.test("ring: once its oldest chunk is overwritten, the line it began inside is left out", () => {
  const r = new LogRing(16);
  r.pushChunk("stdout", 1, enc("first line\nsec"));
  r.pushChunk("stdout", 2, enc("ond\nthird\n"));
  assertEquals(r.tail().map((l) => l.line), ["third"]);
  assert(r.bytes <= 16);
});

Deno.test("ring: one chunk bigger than the capacity keeps its newest bytes", () => {
  const r = new LogRing(50);
  push(r, { stream: "stdout", line: "short", ts: 1 });
  push(r, { stream: "stdout", line: "x".repeat(100), ts: 2 });
  push(r, { stream: "stdout", line: "after", ts: 3 });
  assertEquals(r.tail().map((l) => l.line), ["after"]);
});

Deno.test("ring: many empty lines cannot grow it past its capacity", () => {
  const r = new LogRing(1024);
  for (let i = 0; i < 100_000; i++) push(r, { stream: "stdout", line: "", ts: i });
  assertEquals(r.bytes <= 1024, true);
  assertEquals(r.tail(1)[0]!.ts, 99_999);
});

Deno.test("ring: past its first lap it keeps the newest output, in order", () => {
  const r = new LogRing(1000);
  for (let i = 0; i < 500; i++) r.pushChunk("stdout", i, enc(`line ${i}\n`));
  const lines = r.tail().map((l) => l.line);
  assertEquals(lines.at(-1), "line 499");
  const numbers = lines.map((l) => Number(l.slice(5)));
  assert(numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1), "consecutive");
  assert(lines.length > 80, `${lines.length} lines kept`);
});

/** Chunks of whole numbered lines, `sizes` bytes each (near enough), pushed in turn. */
function pushSized(r: LogRing, sizes: number[], next = { n: 0 }): number {
  for (const size of sizes) {
    let text = "";
    while (text.length + 8 <= size) text += `${String(next.n++).padStart(6, "0")}\n`;
    if (text) r.pushChunk("stdout", next.n, enc(text));
  }
  return next.n;
}

/** The ring's tail is the newest lines, each once, in order, and within its capacity. */
function assertSuffix(r: LogRing, pushed: number, capacity: number) {
  const numbers = r.tail().map((l) => Number(l.line));
  assertEquals(numbers.at(-1), pushed - 1, "the newest line is last");
  assert(numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1), `in order, once each`);
  assert(numbers.length * 7 <= capacity, `${numbers.length} lines from a ${capacity}-byte ring`);
}

Deno.test("ring: a wrap that comes before the last lap's end drops the chunks it overwrites", () => {
  // 400, 400, 200 fill it; 300 wraps; 300 follows; 500 does not fit at 600 and wraps again
  // while the oldest chunk (at 800) is still whole: the two it overwrites must go with it.
  const r = new LogRing(1000);
  const pushed = pushSized(r, [400, 400, 200, 300, 300, 500]);
  assertSuffix(r, pushed, 1000);
});

Deno.test("ring: chunks of random sizes never leave a line twice or out of order", () => {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (const capacity of [1000, 4096, 65536]) {
    const r = new LogRing(capacity);
    const next = { n: 0 };
    for (let i = 0; i < 400; i++) {
      pushSized(r, [8 + Math.floor(random() * capacity * 0.7)], next);
      assertSuffix(r, next.n, capacity);
    }
  }
});

Deno.test("ring: a tail of 0 is no line, not all of them", () => {
  const r = new LogRing();
  r.pushChunk("stdout", 1, enc("a\nb\nc\n"));
  assertEquals(r.tail(0), []);
  assertEquals(r.tail(0, "stdout"), []);
  assertEquals(r.tail(1).map((l) => l.line), ["c"]);
});
