/**
 * A child for the log figure: writes the file `args[0]` to its stdout in
 * 4 KiB writes, as a program's stdio buffer would, and puts in `args[1]` how
 * long its longest write was blocked, in ms. A pipe whose reader keeps up
 * blocks a write only while the reader drains it; one whose reader stalls (a
 * pause, a slow file write) blocks the writer for as long.
 */
const [source, stats] = Deno.args;
if (!source || !stats) throw new Error("usage: writer.ts <file> <stats file>");
const data = await Deno.readFile(source);
const CHUNK = 4096;
let longest = 0;
for (let at = 0; at < data.length;) {
  const t0 = performance.now();
  at += Deno.stdout.writeSync(data.subarray(at, at + CHUNK));
  longest = Math.max(longest, performance.now() - t0);
}
await Deno.writeTextFile(stats, JSON.stringify({ longestMs: longest }));
