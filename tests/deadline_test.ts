import { assertEquals, assertRejects } from "./assert.ts";
import type { Clock, TimerId } from "../lib/clock.ts";
import { deadline, pollUntil } from "../lib/deadline.ts";
import { FakeClock } from "./supervisor/fakes.ts";

/** A clock whose every wait passes at once, moving its time on: it records the waits. */
function hurried() {
  let now = 0;
  const waits: number[] = [];
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      waits.push(ms);
      now += ms;
      queueMicrotask(fn);
      return 0 as unknown as TimerId;
    },
    clearTimeout: () => {},
  };
  return { clock, waits };
}

Deno.test("pollUntil: returns the first value that is not undefined, null or false, waiting a doubling delay", async () => {
  const { clock, waits } = hurried();
  let calls = 0;
  const got = await pollUntil(() => ++calls === 5 ? "done" : false, {
    timeoutMs: 1000,
    firstDelayMs: 10,
    maxDelayMs: 50,
    clock,
  });
  assertEquals(got, "done");
  assertEquals(waits, [10, 20, 40, 50]);
});

Deno.test("pollUntil: gives up at the deadline after a last check, with undefined", async () => {
  const { clock, waits } = hurried();
  let calls = 0;
  const got = await pollUntil(() => {
    calls++;
    return undefined;
  }, { timeoutMs: 25, firstDelayMs: 10, clock });
  assertEquals(got, undefined);
  assertEquals(waits, [10, 15]);
  assertEquals(calls, 3);
});

Deno.test("deadline: the promise's value in time, and its timer gone", async () => {
  const clock = new FakeClock();
  assertEquals(await deadline(Promise.resolve(7), 100, { clock }), 7);
  assertEquals(clock.pending, 0);
  await assertRejects(() => deadline(Promise.reject(new Error("no")), 100, { clock }), /no/);
  assertEquals(clock.pending, 0);
});

Deno.test("deadline: out of time, it fails with the caller's error, and a late value goes to late", async () => {
  const clock = new FakeClock();
  const value = Promise.withResolvers<string>();
  const late: string[] = [];
  const waiting = deadline(value.promise, 100, {
    clock,
    onTimeout: () => new Error("too slow"),
    late: (v) => late.push(v),
  });
  clock.advance(99);
  clock.advance(1);
  await assertRejects(() => waiting, /too slow/);
  value.resolve("after");
  await value.promise;
  assertEquals(late, ["after"]);
  // Without an error of the caller's: a DeadlineError.
  const plain = deadline(new Promise(() => {}), 5, { clock });
  clock.advance(5);
  await assertRejects(() => plain, /no answer within/);
});

Deno.test("deadline: with a stall check it waits while progress is made, and gives up once it stops", async () => {
  const clock = new FakeClock();
  let progress = 0;
  const never = new Promise<void>(() => {});
  const waiting = deadline(never, 1000, { clock, stall: { ms: 100, progress: () => progress } });
  let failed = false;
  waiting.catch(() => failed = true);
  for (let i = 0; i < 5; i++) {
    progress++;
    clock.advance(100);
    await Promise.resolve();
    assertEquals(failed, false, `still making progress at ${(i + 1) * 100} ms`);
  }
  clock.advance(100); // No progress in this stretch.
  await assertRejects(() => waiting, /no answer within/);
  // Progress all along: the whole deadline, then no longer.
  const steady = deadline(never, 300, {
    clock,
    stall: { ms: 100, progress: () => ++progress },
  });
  clock.advance(300);
  await assertRejects(() => steady, /no answer within/);
  assertEquals(clock.pending, 0);
});
