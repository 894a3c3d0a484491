import { assertEquals } from "../assert.ts";
import { droppedOf, type FollowBlock, linesOf } from "../../lib/logs/follow.ts";

const block = (text: string, lines: number): FollowBlock => ({
  stream: "stdout",
  ts: 1,
  text,
  lines,
});

Deno.test("follow: a block's lines come one at a time, from any of them, empty ones included", () => {
  const b = block("a\n\nccc\nd", 4);
  assertEquals([...linesOf(b)], ["a", "", "ccc", "d"]);
  assertEquals([...linesOf(b, 2)], ["ccc", "d"]);
  assertEquals([...linesOf(b, 4)], []);
  assertEquals([...linesOf(block("", 1))], [""]);
  // Taking some leaves the rest unmade: a generator stops where its reader does.
  const it = linesOf(block("x\n".repeat(1_000_000) + "x", 1_000_001));
  assertEquals([it.next().value, it.next().value], ["x", "x"]);
  // A block claiming more lines than it holds ends with its text.
  assertEquals([...linesOf(block("a\nb", 5))], ["a", "b"]);
});

Deno.test("follow: a follower of one stream misses only its stream's dropped lines", () => {
  const batch = { blocks: [], lines: 0, sent: 10, dropped: 7, droppedStderr: 3 };
  assertEquals([
    droppedOf(batch, undefined),
    droppedOf(batch, "stdout"),
    droppedOf(batch, "stderr"),
  ], [7, 4, 3]);
});
