import { assertEquals } from "../assert.ts";
import { RwLock } from "../../lib/daemon/rw_lock.ts";

/** A section that records its start and end, and ends when told. */
function section(log: string[], name: string) {
  const done = Promise.withResolvers<void>();
  return {
    fn: async () => {
      log.push(`+${name}`);
      await done.promise;
      log.push(`-${name}`);
    },
    end: () => done.resolve(),
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("rw lock: shared sections run together; an exclusive one waits for them and runs alone", async () => {
  const lock = new RwLock();
  const log: string[] = [];
  const [a, b, x, c] = ["a", "b", "x", "c"].map((n) => section(log, n)) as [
    ReturnType<typeof section>,
    ReturnType<typeof section>,
    ReturnType<typeof section>,
    ReturnType<typeof section>,
  ];
  const runs = [lock.shared(a.fn), lock.shared(b.fn), lock.exclusive(x.fn), lock.shared(c.fn)];
  await tick();
  assertEquals(log, ["+a", "+b"]);
  a.end();
  await tick();
  assertEquals(log, ["+a", "+b", "-a"], "x waits for b; c waits behind x");
  b.end();
  await tick();
  assertEquals(log.slice(3), ["-b", "+x"]);
  x.end();
  await tick();
  assertEquals(log.slice(5), ["-x", "+c"]);
  c.end();
  await Promise.all(runs);
  assertEquals(log.at(-1), "-c");
});

Deno.test("rw lock: a section that throws releases the lock", async () => {
  const lock = new RwLock();
  const failed = await lock.exclusive(() => Promise.reject(new Error("boom"))).catch((e) => e);
  assertEquals((failed as Error).message, "boom");
  assertEquals(await lock.exclusive(() => Promise.resolve(1)), 1);
});
