import { assert, assertEquals } from "../assert.ts";
import { Conn, type Writable } from "../../lib/rpc/connection.ts";

/** A socket whose writes wait until released, taking at most `chunk` bytes each. */
class SlowSocket implements Writable {
  readonly written: Uint8Array[] = [];
  closed = false;
  #waiting: (() => void)[] = [];
  fail = false;

  constructor(readonly chunk = 8) {}

  write(p: Uint8Array): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#waiting.push(() => {
        if (this.fail) return reject(new Error("broken pipe"));
        const n = Math.min(this.chunk, p.length);
        this.written.push(p.slice(0, n));
        resolve(n);
      });
    });
  }

  /** Lets every waiting write through, until none is left. */
  async release(): Promise<void> {
    while (this.#waiting.length) {
      for (const go of this.#waiting.splice(0)) go();
      await new Promise((r) => setTimeout(r, 0));
    }
  }

  /** Lets the writes waiting now through, once. */
  step(): void {
    for (const go of this.#waiting.splice(0)) go();
  }

  close(): void {
    this.closed = true;
  }

  text(): string {
    return new TextDecoder().decode(
      new Uint8Array(this.written.flatMap((c) => [...c])),
    );
  }
}

Deno.test("connection: lines go out whole and in order; queued bytes count what is unsent; drain waits for them", async () => {
  const socket = new SlowSocket();
  const conn = new Conn(1, socket);
  assert(conn.send({ a: 1 }));
  assert(conn.notify("log", { line: "x" }));
  const size = `{"a":1}\n`.length +
    `{"jsonrpc":"2.0","method":"log","params":{"line":"x"}}\n`.length;
  assertEquals(conn.queuedBytes, size);
  let drained = false;
  const drain = conn.drain().then(() => drained = true);
  await new Promise((r) => setTimeout(r, 0));
  assertEquals(drained, false);
  await socket.release();
  await drain;
  assertEquals(conn.queuedBytes, 0);
  assertEquals(
    socket.text(),
    `{"a":1}\n{"jsonrpc":"2.0","method":"log","params":{"line":"x"}}\n`,
  );
});

Deno.test("connection: past the byte limit it is dropped, not grown; close callbacks run once", async () => {
  const socket = new SlowSocket();
  const conn = new Conn(2, socket, { maxQueuedBytes: 40 });
  let closes = 0;
  conn.onClose(() => closes++);
  assert(conn.send({ line: "0123456789" }));
  assert(!conn.send({ line: "0123456789012345678901234567890" }), "over the limit");
  assert(conn.closed && socket.closed);
  assertEquals(conn.queuedBytes, 0);
  assert(!conn.notify("log", {}), "nothing is sent after close");
  conn.close();
  assertEquals(closes, 1);
  let late = 0;
  conn.onClose(() => late++);
  assertEquals(late, 1, "a callback added after close runs at once");
  await socket.release();
});

Deno.test("connection: onDrain runs once when the queue empties, at once when idle, never after close", async () => {
  const socket = new SlowSocket(1000);
  const conn = new Conn(3, socket);
  const calls: string[] = [];
  conn.onDrain(() => calls.push("idle"));
  await new Promise((r) => setTimeout(r, 0));
  assertEquals(calls, ["idle"]);
  conn.send({ x: 1 });
  conn.onDrain(() => calls.push("drained"));
  assertEquals(calls, ["idle"]);
  await socket.release();
  assertEquals(calls, ["idle", "drained"]);
  conn.send({ x: 2 });
  conn.onDrain(() => calls.push("never"));
  conn.close();
  await socket.release();
  assertEquals(calls, ["idle", "drained"]);
});

Deno.test("connection: a failed write closes the connection and releases drain waiters", async () => {
  const socket = new SlowSocket();
  socket.fail = true;
  const conn = new Conn(4, socket);
  conn.send({ x: 1 });
  const drain = conn.drain();
  await socket.release();
  await drain;
  assert(conn.closed);
});

/** A connection that counts the close callbacks handed to it and not taken back yet. */
class CountingConn extends Conn {
  held = 0;
  override onClose(fn: () => void): () => void {
    this.held++;
    const forget = super.onClose(fn);
    let taken = false;
    return () => {
      if (!taken) this.held--;
      taken = true;
      forget();
    };
  }
}

Deno.test("connection: a close callback taken back does not run", () => {
  const conn = new Conn(5, new SlowSocket());
  let ran = 0;
  let kept = 0;
  const forget = conn.onClose(() => ran++);
  conn.onClose(() => kept++);
  forget();
  conn.close();
  assertEquals([ran, kept], [0, 1]);
});

Deno.test("connection: an answer too large for the queue is replaced by an error answer that says so", async () => {
  const socket = new SlowSocket(1 << 20);
  const conn = new Conn(6, socket, { maxQueuedBytes: 200 });
  assertEquals(conn.answer({ jsonrpc: "2.0", id: 9, result: "x".repeat(500) }, 9), false);
  assert(!conn.closed, "the connection stays open");
  await socket.release();
  const reply = JSON.parse(socket.text());
  assertEquals(reply.id, 9);
  assertEquals(reply.error.code, -32603);
  assert(
    /more than the 0\.0 MiB a connection may hold/.test(reply.error.message),
    reply.error.message,
  );
});

Deno.test("connection: a client that takes no byte within the stall time is dropped", async () => {
  const socket = new SlowSocket();
  const conn = new Conn(7, socket, { writeStallMs: 30 });
  conn.send({ x: 1 });
  await conn.drain(5_000);
  assert(conn.closed && socket.closed, "dropped after the stall time");
});

Deno.test("connection: a drain gives up on a client that takes nothing for the stall time, and waits for one that reads", async () => {
  const stuck = new SlowSocket();
  const conn = new Conn(8, stuck);
  conn.send({ x: "never read" });
  let deadline: ReturnType<typeof setTimeout> | undefined;
  const lost = new Promise<string>((r) => deadline = setTimeout(() => r("timed out"), 5_000));
  const won = await Promise.race([conn.drain(60_000, 30).then(() => "gave up"), lost]);
  clearTimeout(deadline);
  assertEquals(won, "gave up");
  assert(conn.queuedBytes > 0, "it had not been read");

  // A client that takes a few bytes at a time, never stalling, is waited for to the end.
  const slow = new SlowSocket(4);
  const reader = new Conn(9, slow);
  for (let i = 0; i < 20; i++) reader.send({ i });
  const stepper = setInterval(() => slow.step(), 2);
  try {
    await reader.drain(60_000, 2_000);
  } finally {
    clearInterval(stepper);
  }
  assertEquals(reader.queuedBytes, 0);
  assertEquals(slow.text().split("\n").length, 21);
});

Deno.test("connection: drains that end take back their close callbacks", async () => {
  const socket = new SlowSocket();
  const conn = new CountingConn(10, socket);
  for (let i = 0; i < 5; i++) {
    conn.send({ i });
    const drain = conn.drain();
    await socket.release();
    await drain;
  }
  conn.send({ last: true });
  await conn.drain(10);
  assertEquals(conn.held, 0);
});
