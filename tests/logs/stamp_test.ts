import { assertEquals } from "../assert.ts";
import { Stamp } from "../../lib/logs/stamp.ts";

const dec = new TextDecoder();

function expect(stamp: Stamp, ts: number) {
  const iso = new Date(ts).toISOString();
  assertEquals(dec.decode(stamp.bytes("stdout").subarray(0, stamp.length)), `${iso} [out] `);
  assertEquals(dec.decode(stamp.bytes("stderr").subarray(0, stamp.length)), `${iso} [err] `);
  assertEquals(stamp.text("stdout"), `${iso} [out] `);
  assertEquals(stamp.text("stderr"), `${iso} [err] `);
}

Deno.test("stamp: every millisecond of a second, and the seconds around it, as toISOString makes them", () => {
  const stamp = new Stamp();
  const start = Date.UTC(2026, 11, 31, 23, 59, 58, 990);
  for (let ts = start; ts < start + 2_100; ts++) {
    stamp.at(ts);
    expect(stamp, ts);
  }
});

Deno.test("stamp: random times, forward, backward, fractional, and years of other lengths", () => {
  const stamp = new Stamp();
  let seed = 7;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  let ts = Date.UTC(2026, 0, 1);
  for (let i = 0; i < 20_000; i++) {
    const r = random();
    // Mostly small steps, sometimes a jump either way (a clock set back or forward).
    ts += r < 0.9 ? Math.floor(random() * 30) : Math.floor((random() - 0.5) * 1e10);
    const t = random() < 0.05 ? ts + random() : ts;
    stamp.at(t);
    expect(stamp, Math.trunc(t));
  }
  for (const t of [0, -1, -999, -1001, Date.UTC(10_000, 0, 1, 0, 0, 0, 5), Date.UTC(999, 5, 5)]) {
    stamp.at(t);
    expect(stamp, t);
    stamp.at(t + 1);
    expect(stamp, t + 1);
  }
});
