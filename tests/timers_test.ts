import { assert, assertEquals } from "./assert.ts";
import { sleep, TimerQueue, type TimerSource } from "../lib/timers.ts";

/** A source whose time moves only by `advance`, firing the wake-ups that fall due. */
function fakeSource() {
  let now = 0;
  let round = 0;
  let made = 0;
  const wakes: { at: number; fire: () => void; held: boolean; round: number }[] = [];
  const source: TimerSource = {
    now: () => now,
    arm: (ms, fire) => {
      made++;
      const w = { at: now + ms, fire, held: true, round };
      wakes.push(w);
      return {
        release: () => w.held = false,
        renew: () => wakes.includes(w) && (w.held = true),
      };
    },
  };
  return {
    source,
    /** Wake-ups that still hold the process. */
    held: () => wakes.filter((w) => w.held).length,
    /** Wake-ups armed so far (signals made). */
    made: () => made,
    /**
     * Moves time by `ms` and fires the wake-ups that fall due (those let go
     * come unheard). With `early`, those armed before fire up to that much
     * before their time, as a timer on a clock running a little ahead of the
     * queue's would.
     */
    advance(ms: number, opts: { early?: number } = {}) {
      now += ms;
      const start = round++;
      while (true) {
        const i = wakes.findIndex((w) => w.at <= now + (w.round <= start ? opts.early ?? 0 : 0));
        if (i < 0) return;
        const [w] = wakes.splice(i, 1);
        if (w!.held) w!.fire();
      }
    },
  };
}

Deno.test("timers: fire in order of due time, equal ones in the order they were set", () => {
  const f = fakeSource();
  const q = new TimerQueue(f.source);
  const fired: string[] = [];
  q.set(() => fired.push("b"), 20);
  q.set(() => fired.push("a"), 10);
  q.set(() => fired.push("c"), 20);
  q.set(() => fired.push("zero"), 0);
  f.advance(0);
  assertEquals(fired, ["zero"]);
  f.advance(15);
  assertEquals(fired, ["zero", "a"]);
  f.advance(5);
  assertEquals(fired, ["zero", "a", "b", "c"]);
  assertEquals(f.held(), 0, "nothing left to wait for");
});

Deno.test("timers: a cleared timer never fires, even when cleared by one due at the same time", () => {
  const f = fakeSource();
  const q = new TimerQueue(f.source);
  const fired: string[] = [];
  q.clear(q.set(() => fired.push("cleared"), 30));
  const second = q.set(() => fired.push("second"), 10);
  q.set(() => fired.push("third"), 10);
  q.set(() => fired.push("first"), 5);
  f.advance(5);
  q.clear(second);
  q.clear(second); // Twice: nothing.
  q.clear(undefined);
  f.advance(100);
  assertEquals(fired, ["first", "third"]);

  let victim: ReturnType<TimerQueue["set"]> | undefined = undefined;
  q.set(() => {
    fired.push("clearer");
    q.clear(victim);
  }, 10);
  victim = q.set(() => fired.push("victim"), 10);
  f.advance(10);
  assertEquals(fired, ["first", "third", "clearer"]);
});

Deno.test("timers: one wake-up serves many timers; a cleared one's is let go once nothing waits", () => {
  const f = fakeSource();
  const q = new TimerQueue(f.source);
  // A watchdog set again and again, later each time: the first wake-up covers them all.
  let t = q.set(() => {}, 1000);
  for (let i = 1; i <= 100; i++) {
    f.advance(1);
    q.clear(t);
    t = q.set(() => {}, 1000);
  }
  assertEquals(f.held(), 1);
  // An earlier timer needs a wake-up of its own; the later one stays for what follows.
  q.set(() => {}, 10);
  assertEquals(f.held(), 2);
  f.advance(10);
  assertEquals(f.held(), 1);
  // The watchdog's wake-up comes before it is due: one more is armed, for when it is.
  f.advance(900);
  assertEquals(f.held(), 1);
  q.clear(t);
  assertEquals(f.held(), 0, "nothing waits: no wake-up holds the process");
  assertEquals(f.held(), 0);
});

Deno.test("timers: a watchdog cleared and set again with nothing else waiting takes its wake-up up again", () => {
  const f = fakeSource();
  const q = new TimerQueue(f.source);
  let fired = 0;
  let t = q.set(() => fired++, 100);
  for (let i = 0; i < 50; i++) {
    f.advance(1);
    q.clear(t);
    assertEquals(f.held(), 0, "let go between two");
    t = q.set(() => fired++, 100);
    assertEquals(f.held(), 1);
  }
  assertEquals(f.made(), 1, "one signal for the fifty");
  // The first wake-up comes (at 100) before the watchdog is due (at 150): one more, then it fires.
  f.advance(99);
  assertEquals(fired, 0);
  assertEquals(f.made(), 2);
  f.advance(1);
  assertEquals(fired, 1);
  // One let go that came unheard is not taken up again.
  const u = q.set(() => fired++, 10);
  q.clear(u);
  f.advance(20);
  q.set(() => fired++, 10);
  assertEquals(f.made(), 4);
  f.advance(10);
  assertEquals(fired, 2);
});

Deno.test("timers: a wake-up that comes a little early arms again, and runs nothing before its time", () => {
  const f = fakeSource();
  const q = new TimerQueue(f.source);
  let fired = 0;
  q.set(() => fired++, 10);
  f.advance(9.5, { early: 1 });
  assertEquals(fired, 0);
  assertEquals(f.held(), 1);
  // Armed again for at least 1 ms: it runs a fraction late, never early.
  f.advance(0.5);
  assertEquals(fired, 0);
  f.advance(0.5);
  assertEquals(fired, 1);
});

Deno.test("timers: a timer that throws does not keep the others from running; its error is thrown after", () => {
  const f = fakeSource();
  const q = new TimerQueue(f.source);
  const fired: string[] = [];
  q.set(() => {
    throw new Error("boom");
  }, 5);
  q.set(() => fired.push("after"), 5);
  q.set(() => fired.push("later"), 50);
  let thrown: unknown;
  try {
    f.advance(5);
  } catch (e) {
    thrown = e;
  }
  assert(thrown instanceof Error && thrown.message === "boom");
  assertEquals(fired, ["after"]);
  f.advance(45);
  assertEquals(fired, ["after", "later"]);
});

Deno.test("timers: real ones fire on time and in order, and a cleared one not at all", async () => {
  const q = new TimerQueue();
  const fired: number[] = [];
  const t0 = performance.now();
  const done = Promise.withResolvers<void>();
  q.set(() => fired.push(30), 30);
  const cleared = q.set(() => fired.push(-1), 20);
  q.set(() => fired.push(10), 10);
  q.set(() => done.resolve(), 40);
  q.clear(cleared);
  await done.promise;
  assertEquals(fired, [10, 30]);
  assert(performance.now() - t0 >= 39, "not before its time");
  const s0 = performance.now();
  await sleep(15);
  assert(performance.now() - s0 >= 14);
});

Deno.test("timers: nothing in lib/ calls the global setTimeout or setInterval (they load Node's timers)", async () => {
  const lib = new URL("../lib/", import.meta.url).pathname;
  const found: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(`${dir}${e.name}/`);
      else if (e.name.endsWith(".ts")) {
        const lines = (await Deno.readTextFile(`${dir}${e.name}`)).split("\n");
        lines.forEach((line, i) => {
          const code = line.replace(/\/\/.*$|^\s*\*.*$/, "");
          // A call, not a method's signature (`setTimeout(fn: …)` in clock.ts).
          const call =
            /(?<![.\w#])(setTimeout|setInterval|clearTimeout|clearInterval)\s*\((?!\s*\w+\??:)/;
          if (call.test(code)) {
            found.push(`${dir.slice(lib.length)}${e.name}:${i + 1}: ${line.trim()}`);
          }
        });
      }
    }
  };
  await walk(lib);
  assertEquals(found, []);
});
