import { assertEquals } from "./assert.ts";
import { pollUntil } from "../lib/poll.ts";

/** Virtual time: sleeping moves the clock. */
function virtual() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: (ms: number) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
    sleeps,
  };
}

Deno.test("poll: returns the first value that is not undefined, null or false, waiting a doubling delay", async () => {
  const v = virtual();
  let calls = 0;
  const got = await pollUntil(() => ++calls === 5 ? "done" : false, {
    timeoutMs: 1000,
    firstDelayMs: 10,
    maxDelayMs: 50,
    ...v,
  });
  assertEquals(got, "done");
  assertEquals(v.sleeps, [10, 20, 40, 50]);
});

Deno.test("poll: gives up at the deadline after a last check, with undefined", async () => {
  const v = virtual();
  let calls = 0;
  const got = await pollUntil(() => {
    calls++;
    return undefined;
  }, { timeoutMs: 25, firstDelayMs: 10, ...v });
  assertEquals(got, undefined);
  assertEquals(v.sleeps, [10, 15]);
  assertEquals(calls, 3);
});
