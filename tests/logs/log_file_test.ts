import { assert, assertEquals } from "../assert.ts";
import { LogFile } from "../../lib/logs/log_file.ts";
import { RECHECK_MS, REMOVING, rotatedNames } from "../../lib/logs/rotating_file.ts";
import { parseFileLine, readTail, type TailOptions } from "../../lib/logs/read_files.ts";

/** Every line `readTail` hands out, batches joined. */
async function tail(opts: TailOptions): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of readTail(opts)) out.push(...batch.map((l) => l.line));
  return out;
}

Deno.test("log file: rotation keeps `keep` files, .1 newest, no line lost or reordered", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/a.log`;
    const f = new LogFile(path, { maxSize: 200, keep: 3 });
    for (let i = 1; i <= 12; i++) {
      f.appendBlock(i % 2 ? "stdout" : "stderr", Date.UTC(2026, 0, 1, 0, 0, 0, i), `line ${i}`);
      f.flush();
    }
    f.close();
    assertEquals(rotatedNames(path, 3), [`${path}.1`, `${path}.2`, `${path}.3`]);
    const read = (p: string) =>
      Deno.readTextFileSync(p).split("\n").filter((l) => l).map((l) => parseFileLine(l)!);
    const files = [`${path}.2`, `${path}.1`, path].map(read);
    for (const lines of files) assert(lines.length > 0);
    const all = files.flat();
    const numbers = all.map((l) => Number(l.line.split(" ")[1]));
    // Consecutive, ending with the last line: the oldest rotated-away lines are the only ones gone.
    assertEquals(numbers, numbers.map((_, i) => 12 - numbers.length + 1 + i));
    assertEquals(all[0]!.stream, numbers[0]! % 2 ? "stdout" : "stderr");
    assertEquals(new Date(all.at(-1)!.ts).toISOString(), "2026-01-01T00:00:00.012Z");
    const segments = f.segments();
    assertEquals(segments.length, 3);
    assertEquals(await tail({ path, keep: 3, segments, n: 4 }), [
      "line 9",
      "line 10",
      "line 11",
      "line 12",
    ]);
    assertEquals(await tail({ path, keep: 3, segments, n: 2, stream: "stderr" }), [
      "line 10",
      "line 12",
    ]);
    for (const p of [path, `${path}.1`]) assertEquals(Deno.statSync(p).size <= 200, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("log file: the file a rotation drops is removed aside, keep 1 or 0, a stale one too", async () => {
  for (const keep of [1, 0]) {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/a.log`;
      // Left by a daemon that died while removing: replaced and removed like any other.
      Deno.writeTextFileSync(`${path}${REMOVING}`, "stale\n");
      const f = new LogFile(path, { maxSize: 100, keep });
      for (let i = 1; i <= 9; i++) {
        f.appendBlock("stdout", Date.UTC(2026, 0, 1), `line ${i} ${"x".repeat(40)}`);
        f.flush();
        // Every other rotation may come while the last removal is under way: it frees in place.
        if (i % 2) await f.settled();
      }
      f.close();
      await f.settled();
      const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
      assertEquals(left, keep === 1 ? ["a.log", "a.log.1"] : ["a.log"], `keep ${keep}`);
      const last = Deno.readTextFileSync(path);
      assert(last.endsWith(`[out] line 9 ${"x".repeat(40)}\n`), `keep ${keep}: ${last}`);
      if (keep === 1) {
        assert(Deno.readTextFileSync(`${path}.1`).includes("line 8 "), "the one before");
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("log file: a file removed by someone else is made anew by the first flush after RECHECK_MS", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/a.log`;
    let now = 1000;
    const f = new LogFile(path, { maxSize: 1 << 20, keep: 1, now: () => now });
    f.appendBlock("stdout", 0, "one");
    f.flush();
    await Deno.remove(path);
    // Within RECHECK_MS the open file is trusted: the line goes to the removed one.
    now += RECHECK_MS - 1;
    f.appendBlock("stdout", 0, "two");
    f.flush();
    assertEquals(await Deno.stat(path).catch(() => null), null);
    now += 1;
    f.appendBlock("stdout", 0, "three");
    f.flush();
    f.close();
    const text = await Deno.readTextFile(path);
    assert(text.includes("[out] three") && !text.includes("[out] two"), text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("log file: a failed write is counted and the file reopened once writing works", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/logs/a.log`;
    const f = new LogFile(path, { maxSize: 1 << 20, keep: 1 });
    // A regular file where the log directory should be makes every open fail.
    await Deno.writeTextFile(`${dir}/logs`, "in the way");
    f.appendBlock("stdout", 0, "lost");
    f.flush();
    assertEquals(f.writeErrors, 1);
    await Deno.remove(`${dir}/logs`);
    f.appendBlock("stdout", 0, "kept");
    f.flush();
    f.close();
    assertEquals(f.writeErrors, 1);
    assertEquals(Deno.readTextFileSync(path).includes("[out] kept"), true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("log file: lines are buffered and written in one batch on flush, not once per line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/a.log`;
    const f = new LogFile(path, { maxSize: 1 << 20, keep: 1 });
    for (let i = 0; i < 1000; i++) f.appendBlock("stdout", 0, `line ${i}`);
    assertEquals(
      await Deno.stat(path).then(() => true, () => false),
      false,
      "written before flush",
    );
    assertEquals(f.pendingBytes > 0, true);
    f.flush();
    assertEquals(f.pendingBytes, 0);
    assertEquals(Deno.readTextFileSync(path).split("\n").length - 1, 1000);
    f.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("read tail: a long tail across rotated files comes whole, in order, in bounded batches, whatever rotation does meanwhile", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/big.log`;
    const f = new LogFile(path, { maxSize: 64 * 1024, keep: 40 });
    const pad = "y".repeat(60);
    for (let i = 1; i <= 20_000; i++) {
      f.appendBlock(i % 3 ? "stdout" : "stderr", Date.UTC(2026, 0, 1), `line ${i} ${pad}`);
      if (i % 500 === 0) f.flush();
    }
    const segments = f.segments();
    assert(segments.length > 10, `rotated into ${segments.length} files`);
    // Lines written and rotations made after the snapshot do not enter it.
    for (let i = 20_001; i <= 21_000; i++) f.appendBlock("stdout", 0, `late ${i}`);
    f.flush();
    const batches: number[] = [];
    const lines: string[] = [];
    for await (const b of readTail({ path, keep: 40, segments, n: 15_000, batch: 1000 })) {
      batches.push(b.length);
      lines.push(...b.map((l) => l.line));
    }
    f.close();
    assertEquals(lines.length, 15_000);
    assertEquals(lines[0], `line 5001 ${pad}`);
    assertEquals(lines.at(-1), `line 20000 ${pad}`);
    assert(lines.every((l, i) => l === `line ${5001 + i} ${pad}`), "consecutive");
    assert(Math.max(...batches) <= 1000);
    assertEquals(await tail({ path, keep: 40, segments, n: 3, stream: "stderr" }), [
      `line 19992 ${pad}`,
      `line 19995 ${pad}`,
      `line 19998 ${pad}`,
    ]);
    assertEquals(
      await tail({ path, keep: 40, segments, n: 1_000_000 }).then((l) => l.length),
      20_000,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("read tail: a file rotated away before it was read is an error, not a hole", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/a.log`;
    const f = new LogFile(path, { maxSize: 100, keep: 1 });
    for (let i = 0; i < 10; i++) {
      f.appendBlock("stdout", 0, `line ${i} with some text`);
      f.flush();
    }
    const segments = f.segments();
    for (let i = 0; i < 10; i++) {
      f.appendBlock("stdout", 0, `more ${i} with some text`);
      f.flush();
    }
    f.close();
    let error = "";
    await tail({ path, keep: 1, segments, n: 100 }).catch((e) => error = e.message);
    assert(/rotated away while its lines were being read/.test(error), error);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
