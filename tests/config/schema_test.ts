import { assertEquals } from "../assert.ts";
import { compareNames } from "../../lib/config/schema.ts";

Deno.test("config: names sort as people count (s2 before s10), and every name has one place", () => {
  const names = ["s10", "web", "s2", "s1", "api-2", "api-10", "api_1", "a", "s01", "s001", "b2b"];
  assertEquals([...names].sort(compareNames), [
    "a",
    "api_1",
    "api-2",
    "api-10",
    "b2b",
    "s001",
    "s01",
    "s1",
    "s2",
    "s10",
    "web",
  ]);
  // A total order: the result does not depend on where the names started.
  assertEquals([...names].reverse().sort(compareNames), [...names].sort(compareNames));
  assertEquals(compareNames("s1", "s1"), 0);
});
