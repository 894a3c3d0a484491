import { assert, assertEquals } from "../assert.ts";
import { LogFile, rotatedNames } from "../../lib/logs/log_file.ts";
import { parseFileLine, tailFromFiles } from "../../lib/logs/read_files.ts";

Deno.test("log file: rotation keeps `keep` files, .1 newest, no line lost or reordered", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/a.log`;
    const f = new LogFile(path, { maxSize: 200, keep: 3 });
    for (let i = 1; i <= 12; i++) {
      f.append(i % 2 ? "stdout" : "stderr", `line ${i}`, Date.UTC(2026, 0, 1, 0, 0, 0, i));
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
    assertEquals(tailFromFiles(path, { n: 4, keep: 3 }).map((l) => l.line), [
      "line 9",
      "line 10",
      "line 11",
      "line 12",
    ]);
    assertEquals(tailFromFiles(path, { n: 2, keep: 3, stream: "stderr" }).map((l) => l.line), [
      "line 10",
      "line 12",
    ]);
    for (const p of [path, `${path}.1`]) assertEquals(Deno.statSync(p).size <= 200, true);
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
    f.append("stdout", "lost", 0);
    f.flush();
    assertEquals(f.writeErrors, 1);
    await Deno.remove(`${dir}/logs`);
    f.append("stdout", "kept", 0);
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
    for (let i = 0; i < 1000; i++) f.append("stdout", `line ${i}`, 0);
    assertEquals(
      await Deno.stat(path).then(() => true, () => false),
      false,
      "written before flush",
    );
    assertEquals(f.pendingChars > 0, true);
    f.flush();
    assertEquals(f.pendingChars, 0);
    assertEquals(Deno.readTextFileSync(path).split("\n").length - 1, 1000);
    f.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
