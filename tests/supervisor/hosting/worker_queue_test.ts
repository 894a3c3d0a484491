import { assert, assertEquals } from "../../assert.ts";
import { WorkerQueue } from "../../../lib/supervisor/hosting/worker_queue.ts";

/** Resolves on a later turn of the event loop than every timer already due. */
const turn = () => new Promise<void>((r) => setTimeout(r, 0));

/** Waits turn after turn until `done()` holds (at most 200 turns). */
async function until(done: () => boolean) {
  for (let i = 0; i < 200 && !done(); i++) await turn();
  assert(done(), "the queue did not get there");
}

Deno.test("worker queue: runs creations in order, one per turn when each takes a worker's time, so other tasks run between two", async () => {
  const q = new WorkerQueue();
  const seen: string[] = [];
  for (const name of ["a", "b", "c"]) {
    q.add(() => {
      const until = performance.now() + 3; // Longer than a turn may take, as `new Worker` is.
      while (performance.now() < until) { /* busy */ }
      seen.push(name);
    });
  }
  assertEquals(seen, [], "nothing is made on the caller's turn");
  // A task queued after the first creation runs before the second.
  setTimeout(() => seen.push("other task"), 0);
  await until(() => seen.length === 4);
  assertEquals(seen, ["a", "other task", "b", "c"]);
});

Deno.test("worker queue: quick creations (inline actors) go ten to a turn", async () => {
  const q = new WorkerQueue();
  const turns: number[][] = [];
  let turnNo = 0;
  for (let i = 0; i < 25; i++) {
    q.add(() => {
      (turns[turnNo] ??= []).push(i);
      queueMicrotask(() => turnNo = turns.length); // The next creation in another task: a new turn.
    });
  }
  await until(() => turns.flat().length === 25);
  assertEquals(turns.flat(), [...Array(25).keys()]);
  // Ten to a turn at most; fewer only if a turn ran past its 2 ms (a preempted test machine).
  assert(turns.every((t) => t.length <= 10), JSON.stringify(turns));
  assert(turns.length <= 5, `25 quick creations took ${turns.length} turns`);
});

Deno.test("worker queue: a creation taken out before its turn never runs; the others do", async () => {
  const q = new WorkerQueue();
  const seen: string[] = [];
  q.add(() => seen.push("a"));
  const cancel = q.add(() => seen.push("b"));
  q.add(() => seen.push("c"));
  cancel();
  await until(() => seen.length === 2);
  await turn();
  assertEquals(seen, ["a", "c"]);
  cancel(); // After its turn would have come: still nothing.
  assertEquals(seen, ["a", "c"]);
});

Deno.test("worker queue: a creation added once the queue ran dry is made too", async () => {
  const q = new WorkerQueue();
  const seen: string[] = [];
  q.add(() => seen.push("a"));
  await until(() => seen.length === 1);
  q.add(() => seen.push("b"));
  await until(() => seen.length === 2);
  assertEquals(seen, ["a", "b"]);
});
