import { assertEquals } from "../assert.ts";
import {
  chunkReader,
  PIPE_DEFAULT,
  PIPE_FLOOD,
  READ_FLOOD,
  READ_MIN,
} from "../../lib/logs/chunk_reader.ts";

/**
 * A byte stream that answers each read as `script` says: "full" fills the
 * reader's buffer, a number gives that many bytes; it records the size of
 * each buffer it was given.
 */
function scripted(script: ("full" | number)[]) {
  const sizes: number[] = [];
  let step = 0;
  const stream = new ReadableStream({
    type: "bytes",
    pull(c: ReadableByteStreamController) {
      const req = c.byobRequest!;
      const view = req.view as Uint8Array;
      sizes.push(view.byteLength);
      if (step === script.length) {
        c.close();
        req.respond(0);
        return;
      }
      const want = script[step++]!;
      const n = want === "full" ? view.byteLength : Math.min(want, view.byteLength);
      view.fill(120, 0, n);
      req.respond(n);
    },
  });
  return { stream: stream as ReadableStream<Uint8Array>, sizes };
}

async function readAll(
  script: ("full" | number)[],
  resize?: (bytes: number) => boolean,
): Promise<number[]> {
  const { stream, sizes } = scripted(script);
  const reader = chunkReader(stream, resize);
  while (await reader.read() !== null) { /* drain */ }
  return sizes;
}

const KIB = 1024;

/** The sizes from `from` to `to`, doubling or halving. */
function steps(from: number, to: number): number[] {
  const out = [from];
  while (out.at(-1) !== to) out.push(from < to ? out.at(-1)! * 2 : out.at(-1)! / 2);
  return out;
}

Deno.test("chunk reader: a quiet pipe is read into 1 KiB; full reads double it up to a default pipe's 64 KiB", async () => {
  const sizes = await readAll([10, 10, ...Array(9).fill("full")]);
  assertEquals(sizes.slice(0, 3), [READ_MIN, READ_MIN, READ_MIN]);
  assertEquals(sizes.slice(3, 12), [2, 4, 8, 16, 32, 64, 64, 64, 64].map((k) => k * KIB));
});

Deno.test("chunk reader: a full 64 KiB read widens the pipe to 1 MiB once, and reads grow to 256 KiB", async () => {
  const calls: number[] = [];
  const sizes = await readAll(Array(16).fill("full"), (bytes) => (calls.push(bytes), true));
  assertEquals(calls, [PIPE_FLOOD]);
  const growth = [...steps(PIPE_DEFAULT, READ_FLOOD), READ_FLOOD];
  assertEquals(sizes.slice(6, 6 + growth.length), growth);
  assertEquals(Math.max(...sizes), READ_FLOOD);
});

Deno.test("chunk reader: when the pipe cannot be widened, reads stay at 64 KiB and it is not asked again", async () => {
  const calls: number[] = [];
  const sizes = await readAll(Array(16).fill("full"), (bytes) => (calls.push(bytes), false));
  assertEquals(calls, [PIPE_FLOOD]);
  assertEquals(Math.max(...sizes), PIPE_DEFAULT);
  // Without a way to resize at all, the same.
  assertEquals(Math.max(...await readAll(Array(16).fill("full"))), PIPE_DEFAULT);
});

Deno.test("chunk reader: once the flood is over the buffer shrinks and the pipe is narrowed back, until the next flood", async () => {
  const calls: number[] = [];
  const flood = Array(12).fill("full");
  const sizes = await readAll(
    [...flood, ...Array(12).fill(20), ...flood],
    (bytes) => (calls.push(bytes), true),
  );
  assertEquals(calls, [PIPE_FLOOD, PIPE_DEFAULT, PIPE_FLOOD]);
  // Halved on each small read, down to 1 KiB.
  const calm = steps(READ_FLOOD, READ_MIN);
  assertEquals(sizes.slice(12, 12 + calm.length), calm);
  assertEquals(Math.max(...sizes.slice(24)), READ_FLOOD);
});

Deno.test("chunk reader: reads that use much of the buffer keep its size", async () => {
  const sizes = await readAll([...Array(7).fill("full"), ...Array(5).fill(8 * KIB)]);
  assertEquals(sizes.slice(7), Array(6).fill(PIPE_DEFAULT));
});
