import { assertEquals, assertMatch } from "../assert.ts";
import { FLUSH_BYTES, FLUSH_MS, LogCapture } from "../../lib/logs/capture.ts";
import { FOLLOW_BATCH_BYTES, type FollowBatch } from "../../lib/logs/follow.ts";
import type { LogLine } from "../../lib/logs/ring.ts";
import { readTail } from "../../lib/logs/read_files.ts";
import { LineBlocks } from "../../lib/logs/lines.ts";
import type { LogTail } from "../../lib/logs/capture.ts";

/** A follow batch's lines, one by one. */
function linesOf(b: FollowBatch): LogLine[] {
  return b.blocks.flatMap((k) =>
    k.text.split("\n").map((line) => ({ stream: k.stream, line, ts: k.ts }))
  );
}

function lines(s: LogTail): string[] {
  if (!("lines" in s)) throw new Error("expected lines from the ring");
  return s.lines.map((l) => l.line);
}
import { FakeClock } from "../supervisor/fakes.ts";
import { type ChildProcess, denoSpawner } from "../../lib/process/spawner.ts";
import { PIPE_FLOOD } from "../../lib/logs/chunk_reader.ts";

function stream(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const chunk of chunks) c.enqueue(enc.encode(chunk));
      c.close();
    },
  });
}

async function withCapture(
  body: (cap: LogCapture, clock: FakeClock, path: string, batches: LogLine[][]) => Promise<void>,
) {
  const dir = await Deno.makeTempDir();
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const batches: LogLine[][] = [];
  const cap = new LogCapture({
    path: `${dir}/svc.log`,
    maxSize: 1024 * 1024,
    keep: 1,
    clock,
    onFollowLines: (batch) => {
      batches.push(linesOf(batch));
      cap.taken();
    },
  });
  try {
    await body(cap, clock, `${dir}/svc.log`, batches);
  } finally {
    cap.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const fileText = (path: string) => Deno.readTextFile(path).catch(() => "");

/** A stream of `chunks` left open, as a pipe whose child still runs; `end()` closes it. */
function openStream(chunks: string[]) {
  const enc = new TextEncoder();
  let ctl!: ReadableStreamDefaultController<Uint8Array>;
  const s = new ReadableStream<Uint8Array>({
    start(c) {
      ctl = c;
      for (const chunk of chunks) c.enqueue(enc.encode(chunk));
    },
  });
  return { stream: s, end: () => ctl.close() };
}

/** Lets the capture's read loops take what is queued. */
async function settle() {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

Deno.test("capture: lines reach the ring at once and the file within the flush delay, stamped and tagged", async () => {
  await withCapture(async (cap, clock, path) => {
    const out = openStream(["one\ntw", "o\n"]);
    const err = openStream(["oops\n"]);
    const readers = [cap.attach(out.stream, "stdout")];
    await settle();
    readers.push(cap.attach(err.stream, "stderr"));
    await settle();
    assertEquals(lines(cap.tail(undefined, undefined)), ["one", "two", "oops"]);
    assertEquals(cap.stderrTail(5), ["oops"]);
    assertEquals(await fileText(path), "", "not written before the flush delay");
    clock.advance(FLUSH_MS);
    assertEquals(
      await fileText(path),
      "2026-01-01T00:00:00.000Z [out] one\n2026-01-01T00:00:00.000Z [out] two\n" +
        "2026-01-01T00:00:00.000Z [err] oops\n",
    );
    // A pipe that ends is written at once: its child has nothing more to say.
    out.end();
    err.end();
    await Promise.all(readers.map((r) => r.done));
    await cap.attach(stream(["last words\n"]), "stderr").done;
    assertMatch(await fileText(path), /\[err\] oops\n.*\[err\] last words\n$/);
  });
});

Deno.test("capture: a large backlog is written at once, without waiting for the timer", async () => {
  await withCapture(async (cap, _clock, path) => {
    const line = "x".repeat(1000) + "\n";
    await cap.attach(stream([line.repeat(Math.ceil(FLUSH_BYTES / 1000) + 1)]), "stdout").done;
    assertMatch(await fileText(path), /^2026-01-01T00:00:00\.000Z \[out\] x{1000}\n/);
  });
});

Deno.test("capture: while following, each flush hands out the lines since the last; off, none are kept", async () => {
  await withCapture(async (cap, clock, _path, batches) => {
    await cap.attach(stream(["before\n"]), "stdout").done;
    cap.follow(true);
    await cap.attach(stream(["a\nb\n"]), "stdout").done;
    clock.advance(FLUSH_MS);
    await cap.attach(stream(["c\n"]), "stderr").done;
    cap.flush();
    cap.follow(false);
    await cap.attach(stream(["after\n"]), "stdout").done;
    cap.flush();
    assertEquals(batches.map((b) => b.map((l) => l.line)), [["a", "b"], ["c"]]);
  });
});

Deno.test("capture: one follow batch is out at a time; the next gathers until it is taken, then only counts what it drops", async () => {
  const dir = await Deno.makeTempDir();
  const out: FollowBatch[] = [];
  const cap = new LogCapture({
    path: `${dir}/svc.log`,
    maxSize: 64 * 1024 * 1024,
    keep: 1,
    clock: new FakeClock(Date.UTC(2026, 0, 1)),
    onFollowLines: (batch) => out.push(batch),
  });
  try {
    cap.follow(true);
    await cap.attach(stream(["a\n"]), "stdout").done;
    cap.flush();
    await cap.attach(stream(["b\nc\n"]), "stderr").done;
    cap.flush();
    assertEquals(
      out.map((b) => linesOf(b).map((l) => l.line)),
      [["a"]],
      "b and c wait for a to be taken",
    );
    cap.taken();
    assertEquals(out[1], {
      blocks: [{ stream: "stderr", ts: Date.UTC(2026, 0, 1), text: "b\nc", lines: 2 }],
      lines: 2,
      sent: 3,
      dropped: 0,
      droppedStderr: 0,
    });
    // Not taken: 12 MB of lines gather; what is past the limit is counted only.
    const long = "x".repeat(1000);
    const n = Math.ceil((FOLLOW_BATCH_BYTES * 1.5) / long.length);
    await cap.attach(stream(Array(n).fill(`${long}\n`)), "stdout").done;
    await cap.attach(stream(["e1\ne2\n"]), "stderr").done;
    cap.flush();
    assertEquals(out.length, 2);
    assertEquals(
      cap.tail(1, undefined).sent,
      3 + n + 2,
      "the snapshot covers every line numbered",
    );
    cap.taken();
    const big = { ...out[2]!, lines: linesOf(out[2]!) };
    assertEquals(out[2]!.lines, big.lines.length);
    assertEquals(big.sent, 3 + n + 2);
    assertEquals(big.lines.length + big.dropped, n + 2);
    assertEquals(big.droppedStderr, 2);
    assertEquals(
      big.lines.every((l) => l.line === long),
      true,
      "the first lines are kept, in order",
    );
    const kept = big.lines.length * (long.length + 64);
    assertEquals(
      kept > FOLLOW_BATCH_BYTES && kept - (long.length + 64) <= FOLLOW_BATCH_BYTES,
      true,
    );
    cap.taken();
    await cap.attach(stream(["f\n"]), "stdout").done;
    cap.flush();
    assertEquals(out.slice(3).map((b) => [linesOf(b).map((l) => l.line), b.sent, b.dropped]), [
      [["f"], 3 + n + 3, 0],
    ]);
  } finally {
    cap.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("capture: a tail longer than the ring holds names the files to read, as they are after a flush", async () => {
  await withCapture(async (cap, _clock, path) => {
    await Deno.writeTextFile(path, "2025-12-31T23:59:59.000Z [out] from the file\n");
    const empty = cap.tail(undefined, undefined);
    assertEquals("files" in empty && empty.want, 100, "an empty ring: the last 100 from the files");
    await cap.attach(stream(["live\n"]), "stdout").done;
    assertEquals(lines(cap.tail(1, undefined)), ["live"], "the ring holds enough");
    const snap = cap.tail(2, undefined);
    if (!("files" in snap)) throw new Error("expected files");
    const got: string[] = [];
    for await (const b of readTail({ path, keep: 1, segments: snap.files, n: snap.want })) {
      got.push(...b.map((l) => l.line));
    }
    assertEquals(got, ["from the file", "live"], "flushed before the files were named");
  });
});

Deno.test("capture: plain lines, and lines with UTF-8, CRLF and invalid bytes, reach the file and the followers alike", async () => {
  await withCapture(async (cap, _clock, path, batches) => {
    cap.follow(true);
    // Each chunk's lines after its first are handed on as bytes; some cannot stay bytes.
    const chunks = [
      "first\nplain\nlines\n",
      "x\nhé\nwörld\n",
      "y\nwin\r\ndows\r\n",
      "z\nbad \xff byte\n",
    ];
    const latin = chunks.map((c) => Uint8Array.from(c, (ch) => ch.charCodeAt(0)));
    const utf8 = chunks.map((c, i) => i === 3 ? latin[i]! : new TextEncoder().encode(c));
    const s = new ReadableStream<Uint8Array>({
      start(c) {
        for (const chunk of utf8) c.enqueue(chunk);
        c.close();
      },
    });
    await cap.attach(s, "stdout").done;
    cap.flush();
    const want = [
      "first",
      "plain",
      "lines",
      "x",
      "hé",
      "wörld",
      "y",
      "win",
      "dows",
      "z",
      "bad \uFFFD byte",
    ];
    const file = (await fileText(path)).split("\n").slice(0, -1);
    assertEquals(file, want.map((l) => `2026-01-01T00:00:00.000Z [out] ${l}`));
    assertEquals(batches.flat().map((l) => l.line), want);
  });
});

/**
 * Mixed output (plain lines, UTF-8, invalid bytes, CRLF, lines longer than a pipe read), some
 * 2.5 MB of it, for the capture to read through a real pipe in whatever chunks it gives.
 */
function randomOutput(): Uint8Array {
  let seed = 11;
  const rnd = (n: number) => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) % n;
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  for (let i = 0; i < 20_000; i++) {
    // Runs of plain lines (taken as bytes) between runs of mixed ones (decoded).
    const k = Math.floor(i / 1000) % 2 === 1 ? rnd(200) : 31 + rnd(169);
    if (k < 10) parts.push(enc.encode("hé wörld €"));
    else if (k < 20) parts.push(Uint8Array.of(0xff, 0xc3));
    else if (k < 30) parts.push(Uint8Array.of(13));
    else if (k === 30) parts.push(enc.encode("z".repeat(70_000)));
    else parts.push(enc.encode(`line ${i} ${"x".repeat(rnd(120))}`));
    parts.push(Uint8Array.of(10));
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (bytes.set(p, at), at + p.length), 0);
  return bytes;
}

/** The capture of `cat`ting `bytes` (spawned by `spawn`) must write what decoding them whole gives. */
async function captureMatchesTextPath(
  spawn: (file: string) => { child: ChildProcess; resize?: (bytes: number) => boolean },
) {
  const bytes = randomOutput();
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/out.bin`, bytes);
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const cap = new LogCapture({ path: `${dir}/svc.log`, maxSize: 1 << 30, keep: 1, clock });
    const { child, resize } = spawn(`${dir}/out.bin`);
    await cap.attach(child.stdout, "stdout", resize).done;
    await child.status;
    await child.stderr.cancel();
    cap.close();
    const reference = new LineBlocks();
    const want = [...reference.push(bytes), reference.end()].filter((b) => b !== null)
      .flatMap((b) => b.split("\n")).map((l) => `2026-01-01T00:00:00.000Z [out] ${l}`);
    assertEquals((await Deno.readTextFile(`${dir}/svc.log`)).split("\n").slice(0, -1), want);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("capture: random output through a real pipe reaches the file as the text path would write it", async () => {
  await captureMatchesTextPath((file) => ({
    child: new Deno.Command("cat", { args: [file], stdout: "piped", stderr: "piped" }).spawn(),
  }));
});

Deno.test({
  name: "capture: the same through a pipe widened when it filled, read in chunks of up to 256 KiB",
  // Pipes are widened on Linux only (lib/process/pipe_size.ts).
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const calls: [number, boolean][] = [];
    await captureMatchesTextPath((file) => {
      const child = denoSpawner.spawn({ command: "cat", args: [file], env: {} });
      return {
        child,
        resize: (bytes) => {
          const done = child.resizePipe!("stdout", bytes);
          calls.push([bytes, done]);
          return done;
        },
      };
    });
    // cat writes faster than the capture takes it: the pipe fills, and is widened.
    assertEquals(calls[0], [PIPE_FLOOD, true]);
  },
});

Deno.test("capture: a line read off a drained pipe is in the file at once, with no timer", async () => {
  await withCapture(async (cap, clock, path) => {
    // The child says one thing and stays: its pipe is drained by the first read.
    const child = new Deno.Command("sh", {
      args: ["-c", "echo hello; exec sleep 30"],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const reader = cap.attach(child.stdout, "stdout");
    try {
      const deadline = Date.now() + 10_000;
      while (!(await fileText(path)).includes("hello") && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 5));
      }
      // The fake clock never moved: no flush timer could have written it.
      assertEquals(await fileText(path), "2026-01-01T00:00:00.000Z [out] hello\n");
      assertEquals(clock.pending, 0, "nothing left waiting on a timer");
    } finally {
      child.kill("SIGKILL");
      await child.status;
      await reader.cancel();
    }
  });
});
