import { assert, assertEquals } from "../../assert.ts";
import { backoffDelay } from "../../../lib/supervisor/core/backoff.ts";
import { admitRestart, pruneWindow } from "../../../lib/supervisor/core/retry_window.ts";

Deno.test("backoff: doubles from initial and caps at max; zero stays zero", () => {
  const o = { initialMs: 100, maxMs: 1000 };
  assertEquals([0, 1, 2, 3, 4, 50, 5000].map((a) => backoffDelay(a, o)), [
    100,
    200,
    400,
    800,
    1000,
    1000,
    1000,
  ]);
  assertEquals(backoffDelay(3, { initialMs: 0, maxMs: 1000 }), 0);
});

Deno.test("retry window: admits up to max within 60 s and forgets older entries", () => {
  let w: number[] = [];
  for (const t of [0, 10, 20]) {
    const r = admitRestart(w, { now: t, max: 3 });
    assert(r.allowed);
    w = r.window;
  }
  assertEquals(admitRestart(w, { now: 30, max: 3 }).allowed, false);
  assertEquals(pruneWindow(w, 60_005), [10, 20]);
  assertEquals(admitRestart(w, { now: 60_001, max: 3 }).allowed, true);
});
