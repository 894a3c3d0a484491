import { assert, assertEquals } from "../assert.ts";
import {
  FOLLOWER_QUEUE_BYTES,
  type LogSource,
  Subscriptions,
} from "../../lib/daemon/subscriptions.ts";
import type { Connection } from "../../lib/rpc/connection.ts";
import type { LogLine } from "../../lib/logs/ring.ts";
import type { LogTail } from "../../lib/logs/capture.ts";
import type { FollowBatch, FollowBlock } from "../../lib/logs/follow.ts";
import { waitFor } from "../integration/harness.ts";

/** A connection whose backlog the test sets, recording what is sent. */
class FakeConn implements Connection {
  readonly id = 1;
  queuedBytes = 0;
  closed = false;
  readonly sent: { method: string; params: Record<string, unknown> }[] = [];
  #drain: (() => void)[] = [];
  #close: (() => void)[] = [];

  notify(method: string, params: unknown): boolean {
    this.sent.push({ method, params: params as Record<string, unknown> });
    return true;
  }
  drain(): Promise<void> {
    return Promise.resolve();
  }
  onDrain(fn: () => void): void {
    this.#drain.push(fn);
  }
  onClose(fn: () => void): () => void {
    this.#close.push(fn);
    return () => this.#close.splice(this.#close.indexOf(fn), 1);
  }
  get closeCallbacks(): number {
    return this.#close.length;
  }
  /** The client caught up. */
  drained(): void {
    this.queuedBytes = 0;
    for (const fn of this.#drain.splice(0)) fn();
  }
  close(): void {
    this.closed = true;
    for (const fn of this.#close.splice(0)) fn();
  }
  lines(): string[] {
    return this.sent.filter((s) => s.method === "log").map((s) => s.params.line as string);
  }
  take() {
    return this.sent.splice(0);
  }
}

/** A server whose tail is `lines`, or comes when `gate` resolves. */
function source(lines: LogLine[] = [], gate: Promise<void> = Promise.resolve()) {
  const s = {
    name: "web",
    logFile: "/nonexistent/web.log",
    config: { logs: { keep: 1 } },
    following: false,
    /** Lines sent to followers so far, as an actor counts them. */
    sent: 0,
    follow(on: boolean) {
      s.following = on;
    },
    request: async () => {
      await gate;
      return { lines, sent: s.sent };
    },
  };
  return s satisfies LogSource;
}

const line = (text: string, stream: "stdout" | "stderr" = "stdout"): LogLine => ({
  stream,
  line: text,
  ts: 1,
});

/**
 * `from` sends `lines` to its followers, numbering them as its actor does,
 * and says it dropped `dropped` lines after them (`droppedStderr` of stderr).
 */
function send(
  subs: Subscriptions,
  from: { name: string; sent: number },
  lines: LogLine[],
  dropped = 0,
  droppedStderr = 0,
) {
  from.sent += lines.length + dropped;
  subs.deliver(from.name, batchOf(lines, from.sent, dropped, droppedStderr));
}

/** A batch of `lines`, a block for each run of one stream and time, as a capture makes it. */
function batchOf(lines: LogLine[], sent: number, dropped = 0, droppedStderr = 0): FollowBatch {
  const blocks: FollowBlock[] = [];
  for (const l of lines) {
    const last = blocks.at(-1);
    if (last && last.stream === l.stream && last.ts === l.ts) {
      blocks[blocks.length - 1] = {
        ...last,
        text: `${last.text}\n${l.line}`,
        lines: last.lines + 1,
      };
    } else blocks.push({ stream: l.stream, ts: l.ts, text: l.line, lines: 1 });
  }
  return { blocks, lines: lines.length, sent, dropped, droppedStderr };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

/** Opens a follow on `conn` and lets its tail go out. */
async function follow(subs: Subscriptions, conn: FakeConn, web: LogSource, stream?: "stderr") {
  const f = await subs.open(conn, web, {
    name: "web",
    follow: true,
    ...(stream ? { stream } : {}),
  });
  f.after();
  await tick();
  return f;
}

Deno.test("subscriptions: the tail follows the response, then live lines; until then live lines wait behind it", async () => {
  const conn = new FakeConn();
  const web = source([line("old")]);
  const subs = new Subscriptions();
  subs.attach(web);
  const followUp = await subs.open(conn, web, { name: "web", follow: true });
  assertEquals(web.following, true);
  send(subs, web, [line("during")]);
  assertEquals(conn.sent, [], "nothing before the response is written");
  followUp.after();
  await tick();
  send(subs, web, [line("new")]);
  subs.deliver("other", batchOf([line("not ours")], 1));
  assertEquals(conn.lines(), ["old", "during", "new"]);
  assertEquals(conn.sent[0]!.params.subscription_id, followUp.result.subscription_id);
});

Deno.test("subscriptions: lines the tail holds are not sent again; those after it are, even ahead of its reply's continuation", async () => {
  const conn = new FakeConn();
  let open!: () => void;
  const taken: { tail?: LogTail } = {};
  const gate = new Promise<void>((r) => open = r);
  const web = {
    ...source(),
    request: async () => (await gate, taken.tail!),
  };
  const subs = new Subscriptions();
  subs.attach(web);
  const opening = subs.open(conn, web, { name: "web", follow: true });
  // Followed before the tail was taken: the actor's ring has them, the tail holds them.
  send(subs, web, [line("a"), line("b")]);
  taken.tail = { lines: [line("old"), line("a"), line("b")], sent: web.sent };
  open();
  // Sent once the tail was taken (counted past it), before open() resumed.
  send(subs, web, [line("c")]);
  const followUp = await opening;
  send(subs, web, [line("d")]);
  followUp.after();
  await tick();
  send(subs, web, [line("e")]);
  assertEquals(conn.lines(), ["old", "a", "b", "c", "d", "e"]);
});

Deno.test("subscriptions: lines of a server that replaced the followed one while its tail was taken are kept", async () => {
  const conn = new FakeConn();
  let open!: () => void;
  const before = source([line("old")], new Promise<void>((r) => open = r));
  before.sent = 5; // to earlier followers: more than the new server has sent
  const subs = new Subscriptions();
  subs.attach(before);
  const opening = subs.open(conn, before, { name: "web", follow: true });
  const after = source();
  subs.attach(after);
  send(subs, after, [line("new")]);
  open();
  (await opening).after();
  await tick();
  assertEquals(conn.lines(), ["old", "new"]);
});

Deno.test("subscriptions: a follower behind its queue limit loses lines, counted once in log_dropped when it catches up", async () => {
  const conn = new FakeConn();
  const subs = new Subscriptions();
  const web = source();
  subs.attach(web);
  await follow(subs, conn, web);
  conn.queuedBytes = FOLLOWER_QUEUE_BYTES + 1;
  send(subs, web, [line("a"), line("b")]);
  send(subs, web, [line("c")]);
  assertEquals(conn.take(), []);
  conn.drained();
  const dropped = conn.take();
  assertEquals(dropped.map((s) => [s.method, s.params.count]), [["log_dropped", 3]]);
  send(subs, web, [line("d")]);
  assertEquals(conn.lines(), ["d"], "the count starts again at zero");
  assertEquals(conn.sent.filter((s) => s.method === "log_dropped").length, 0);
});

Deno.test("subscriptions: a follower whose queue fills within a block loses the rest of it, counted exactly", async () => {
  const conn = new FakeConn();
  const subs = new Subscriptions();
  const web = source();
  subs.attach(web);
  await follow(subs, conn, web);
  // Three more notifications fill its share; each line after them is lost.
  conn.queuedBytes = FOLLOWER_QUEUE_BYTES - 250;
  const notify = conn.notify.bind(conn);
  conn.notify = (method, params) => {
    conn.queuedBytes += 100;
    return notify(method, params);
  };
  const flood = Array.from({ length: 200_000 }, (_, i) => line(`y${i}`));
  send(subs, web, flood);
  send(subs, web, [line("late")]);
  assertEquals(conn.lines(), ["y0", "y1", "y2"]);
  conn.take();
  conn.drained();
  assertEquals(conn.take().map((s) => [s.method, s.params.count]), [[
    "log_dropped",
    200_000 - 3 + 1,
  ]]);
  send(subs, web, [line("again")]);
  assertEquals(conn.lines(), ["again"]);
});

Deno.test("subscriptions: lines the actor dropped are reported after the lines before them, to each follower as many as were its stream's", async () => {
  const all = new FakeConn();
  const errOnly = new FakeConn();
  const subs = new Subscriptions();
  const web = source();
  subs.attach(web);
  await follow(subs, all, web);
  await follow(subs, errOnly, web, "stderr");
  send(subs, web, [line("a"), line("b", "stderr")], 5, 2);
  send(subs, web, [line("c")]);
  const seen = (c: FakeConn) =>
    c.take().map((s) => s.method === "log" ? s.params.line : `dropped ${s.params.count}`);
  assertEquals(seen(all), ["a", "b", "dropped 5", "c"]);
  assertEquals(seen(errOnly), ["b", "dropped 2"]);
  all.queuedBytes = FOLLOWER_QUEUE_BYTES + 1;
  send(subs, web, [], 4);
  assertEquals(all.take(), [], "held back while the client is behind");
  all.drained();
  assertEquals(seen(all), ["dropped 4"]);
});

Deno.test("subscriptions: a batch that comes after the tail's reply yet reaches into it is cut where the tail ends", async () => {
  const conn = new FakeConn();
  let open!: () => void;
  const web = { ...source(), request: async () => (await gate, tail) };
  const gate = new Promise<void>((r) => open = r);
  // The actor numbered a, b and 2 lines it dropped (all in the tail), then c and 1 more dropped.
  const tail: LogTail = { lines: [line("old"), line("a"), line("b")], sent: 4 };
  const subs = new Subscriptions();
  subs.attach(web);
  const opening = subs.open(conn, web, { name: "web", follow: true });
  open();
  (await opening).after();
  await tick();
  send(subs, web, [line("a"), line("b")], 2);
  send(subs, web, [line("c")], 1);
  assertEquals(
    conn.sent.map((s) => s.method === "log" ? s.params.line : `dropped ${s.params.count}`),
    ["old", "a", "b", "c", "dropped 1"],
  );
});

/** A connection whose queue grows with what is sent and empties when waited on: a client reading. */
class ReadingConn extends FakeConn {
  most = 0;
  drains = 0;
  override notify(method: string, params: unknown): boolean {
    super.notify(method, params);
    this.queuedBytes += JSON.stringify(params).length + 40;
    this.most = Math.max(this.most, this.queuedBytes);
    return true;
  }
  override drain(): Promise<void> {
    this.drains++;
    this.queuedBytes = 0;
    return Promise.resolve();
  }
}

Deno.test("subscriptions: a tail from the ring goes out as the client takes it, not all at once", async () => {
  const conn = new ReadingConn();
  const web = source(Array.from({ length: 100_000 }, (_, i) => line(String(i).padStart(100, "x"))));
  const subs = new Subscriptions();
  subs.attach(web);
  (await subs.open(conn, web, { name: "web", follow: false })).after();
  await waitFor("log_end", () => conn.sent.at(-1)?.method === "log_end");
  assertEquals(conn.lines().length, 100_000);
  assertEquals(conn.lines().at(-1), "99999".padStart(100, "x"));
  assert(
    conn.drains > 0 && conn.most <= FOLLOWER_QUEUE_BYTES + 300,
    `${conn.most} B queued at most`,
  );
});

Deno.test("subscriptions: a stream filter, cancel and a closed connection each end the follow", async () => {
  const conn = new FakeConn();
  const web = source();
  const subs = new Subscriptions();
  subs.attach(web);
  const errOnly = await follow(subs, conn, web, "stderr");
  send(subs, web, [line("out"), line("err", "stderr")]);
  assertEquals(conn.lines(), ["err"]);
  assertEquals(conn.closeCallbacks, 1);
  assertEquals(subs.cancel(errOnly.result.subscription_id), true);
  assertEquals(conn.closeCallbacks, 0, "a cancelled subscription leaves no close callback behind");
  assertEquals(subs.cancel(errOnly.result.subscription_id), false);
  assertEquals(web.following, false);
  await follow(subs, conn, web);
  assertEquals(web.following, true);
  conn.close();
  assertEquals(web.following, false);
});

Deno.test("subscriptions: without follow the tail ends with log_end and nothing stays open", async () => {
  const conn = new FakeConn();
  const web = source([line("one"), line("two")]);
  const subs = new Subscriptions();
  subs.attach(web);
  const f = await subs.open(conn, web, { name: "web", follow: false });
  f.after();
  await tick();
  assertEquals(conn.sent.map((s) => s.method), ["log", "log", "log_end"]);
  assertEquals(web.following, false);
  send(subs, web, [line("late")]);
  assertEquals(conn.sent.length, 3);
});

Deno.test("subscriptions: a follow belongs to the name: a replacing server is followed, a removed one ends it", async () => {
  const conn = new FakeConn();
  const before = source();
  const subs = new Subscriptions();
  subs.attach(before);
  await follow(subs, conn, before);
  const after = source();
  subs.attach(after);
  assertEquals(after.following, true, "the new server sends its lines");
  send(subs, after, [line("from the new config")]);
  assertEquals(conn.lines(), ["from the new config"]);
  subs.end("web", "the server was removed from the config dir");
  assertEquals(conn.take().at(-1), {
    method: "log_end",
    params: {
      subscription_id: "sub-1",
      name: "web",
      reason: "the server was removed from the config dir",
    },
  });
  send(subs, after, [line("nobody listens")]);
  assertEquals(conn.sent, []);
});

Deno.test("subscriptions: a tail whose files cannot be read ends with log_end carrying the error", async () => {
  const conn = new FakeConn();
  const subs = new Subscriptions();
  const web = {
    ...source(),
    request: () => Promise.resolve({ files: [{ ino: 1, head: "x", size: 10 }], want: 5, sent: 0 }),
  };
  const f = await subs.open(conn, web, { name: "web", follow: false });
  f.after();
  const end = await waitFor("log_end", () => conn.sent.find((s) => s.method === "log_end"));
  assertEquals(end.method, "log_end");
  assertEquals(
    /the log files of "web" could not be read: .*rotated away/.test(end.params.error as string),
    true,
    String(end.params.error),
  );
});
