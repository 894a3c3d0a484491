import { assertEquals } from "../assert.ts";
import {
  FOLLOWER_QUEUE_BYTES,
  type LogSource,
  Subscriptions,
} from "../../lib/daemon/subscriptions.ts";
import type { Connection } from "../../lib/rpc/connection.ts";
import type { LogLine } from "../../lib/logs/ring.ts";

/** A connection whose backlog the test sets, recording what is sent. */
class FakeConn implements Connection {
  readonly id = 1;
  queuedBytes = 0;
  readonly sent: { method: string; params: Record<string, unknown> }[] = [];
  #drain: (() => void)[] = [];
  #close: (() => void)[] = [];

  notify(method: string, params: unknown): boolean {
    this.sent.push({ method, params: params as Record<string, unknown> });
    return true;
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
  closed(): void {
    for (const fn of this.#close.splice(0)) fn();
  }
  lines(): string[] {
    return this.sent.filter((s) => s.method === "log").map((s) => s.params.line as string);
  }
  take() {
    return this.sent.splice(0);
  }
}

function source(snapshot: LogLine[] = []) {
  const s = {
    name: "web",
    followers: 0,
    follow(delta: 1 | -1) {
      s.followers += delta;
    },
    request: () => Promise.resolve(snapshot),
  };
  return s satisfies LogSource;
}

const line = (text: string, stream: "stdout" | "stderr" = "stdout"): LogLine => ({
  stream,
  line: text,
  ts: 1,
});

Deno.test("subscriptions: the snapshot follows the response, then live lines; until then live lines are the snapshot's", async () => {
  const conn = new FakeConn();
  const web = source([line("old")]);
  const subs = new Subscriptions();
  const followUp = await subs.open(conn, web, { name: "web", follow: true });
  assertEquals(web.followers, 1);
  subs.deliver("web", [line("old")]);
  assertEquals(conn.sent, [], "nothing before the response is written");
  followUp.after();
  subs.deliver("web", [line("new")]);
  subs.deliver("other", [line("not ours")]);
  assertEquals(conn.lines(), ["old", "new"]);
  assertEquals(conn.sent[0]!.params.subscription_id, followUp.result.subscription_id);
});

Deno.test("subscriptions: a follower behind its queue limit loses lines, counted once in log_dropped when it catches up", async () => {
  const conn = new FakeConn();
  const subs = new Subscriptions();
  (await subs.open(conn, source(), { name: "web", follow: true })).after();
  conn.queuedBytes = FOLLOWER_QUEUE_BYTES + 1;
  subs.deliver("web", [line("a"), line("b")]);
  subs.deliver("web", [line("c")]);
  assertEquals(conn.take(), []);
  conn.drained();
  const dropped = conn.take();
  assertEquals(dropped.map((s) => [s.method, s.params.count]), [["log_dropped", 3]]);
  subs.deliver("web", [line("d")]);
  assertEquals(conn.lines(), ["d"], "the count starts again at zero");
  assertEquals(conn.sent.filter((s) => s.method === "log_dropped").length, 0);
});

Deno.test("subscriptions: a stream filter, cancel and a closed connection each end the follow", async () => {
  const conn = new FakeConn();
  const web = source();
  const subs = new Subscriptions();
  const errOnly = await subs.open(conn, web, { name: "web", follow: true, stream: "stderr" });
  errOnly.after();
  subs.deliver("web", [line("out"), line("err", "stderr")]);
  assertEquals(conn.lines(), ["err"]);
  assertEquals(conn.closeCallbacks, 1);
  assertEquals(subs.cancel(errOnly.result.subscription_id), true);
  assertEquals(conn.closeCallbacks, 0, "a cancelled subscription leaves no close callback behind");
  assertEquals(subs.cancel(errOnly.result.subscription_id), false);
  assertEquals(web.followers, 0);
  (await subs.open(conn, web, { name: "web", follow: true })).after();
  assertEquals(web.followers, 1);
  conn.closed();
  assertEquals(web.followers, 0);
});

Deno.test("subscriptions: without follow the snapshot ends with log_end and nothing stays open", async () => {
  const conn = new FakeConn();
  const web = source([line("one"), line("two")]);
  const subs = new Subscriptions();
  const f = await subs.open(conn, web, { name: "web", follow: false });
  f.after();
  assertEquals(conn.sent.map((s) => s.method), ["log", "log", "log_end"]);
  assertEquals(web.followers, 0);
  subs.deliver("web", [line("late")]);
  assertEquals(conn.sent.length, 3);
});
