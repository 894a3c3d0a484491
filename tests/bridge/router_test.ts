/** The shared router, rule by rule (SPEC §11): messages in, messages out, per session. */
import { assertEquals } from "../assert.ts";
import { type Out, SharedRouter } from "../../lib/bridge/router.ts";
import type { RpcMessage } from "../../lib/bridge/jsonrpc.ts";

const CHILD_INIT = {
  protocolVersion: "2025-11-25",
  capabilities: { tools: {}, resources: { subscribe: true }, logging: {} },
  serverInfo: { name: "child", version: "1.0" },
};

/** A router whose child is ready, with sessions `A` and `B` open (B's client can sample). */
function ready() {
  const r = new SharedRouter();
  r.ready(CHILD_INIT);
  r.open("A", req(0, "initialize", { protocolVersion: "2025-06-18", capabilities: {} }));
  r.open(
    "B",
    req(0, "initialize", {
      protocolVersion: "2025-11-25",
      capabilities: { sampling: {} },
      clientInfo: { name: "b-client", version: "2" },
    }),
  );
  return r;
}

function req(id: number | string, method: string, params?: Record<string, unknown>): RpcMessage & {
  id: number | string;
} {
  return { jsonrpc: "2.0", id, method, ...(params ? { params } : {}) };
}

const toChild = (outs: Out[]) => outs.filter((o) => o.to === "child").map((o) => o.message);
const toSession = (outs: Out[], s?: string) =>
  outs.filter((o) => o.to === "session" && (!s || o.session === s)) as Extract<
    Out,
    { to: "session" }
  >[];

Deno.test("router: a session's initialize is answered from the child's, at the client's version, announcing list changes", () => {
  const r = new SharedRouter();
  r.ready(CHILD_INIT);
  const [answer] = r.open("A", req(7, "initialize", { protocolVersion: "2025-03-26" }));
  assertEquals(answer, {
    to: "session",
    session: "A",
    about: 7,
    message: {
      jsonrpc: "2.0",
      id: 7,
      result: {
        protocolVersion: "2025-03-26",
        capabilities: {
          tools: { listChanged: true },
          resources: { subscribe: true, listChanged: true },
          logging: {},
        },
        serverInfo: { name: "child", version: "1.0" },
      },
    },
  });
  // A version xy does not speak gets its newest.
  const [other] = r.open("B", req(1, "initialize", { protocolVersion: "1999-01-01" }));
  assertEquals(
    ((other as { message: RpcMessage }).message.result as { protocolVersion: string })
      .protocolVersion,
    "2025-11-25",
  );
  // `initialized` goes no further.
  assertEquals(r.fromClient("A", { jsonrpc: "2.0", method: "notifications/initialized" }), []);
});

Deno.test("router: two sessions' colliding ids reach the child apart, and each answer goes back to its own", () => {
  const r = ready();
  const a = toChild(r.fromClient("A", req(1, "tools/call", { name: "x" })));
  const b = toChild(r.fromClient("B", req(1, "tools/call", { name: "y" })));
  assertEquals(a.length, 1);
  assertEquals(b.length, 1);
  const [idA, idB] = [a[0]!.id, b[0]!.id];
  assertEquals(idA === idB, false, "the child sees two ids");
  const backB = r.fromChild({ jsonrpc: "2.0", id: idB!, result: { y: true } });
  assertEquals(backB, [{
    to: "session",
    session: "B",
    about: 1,
    message: { jsonrpc: "2.0", id: 1, result: { y: true } },
  }]);
  const backA = r.fromChild({ jsonrpc: "2.0", id: idA!, error: { code: -1, message: "no" } });
  assertEquals(backA, [{
    to: "session",
    session: "A",
    about: 1,
    message: { jsonrpc: "2.0", id: 1, error: { code: -1, message: "no" } },
  }]);
  // A late, second answer is dropped.
  assertEquals(r.fromChild({ jsonrpc: "2.0", id: idA!, result: {} }), []);
});

Deno.test("router: progress tokens are rewritten, and progress reaches only the session that asked", () => {
  const r = ready();
  const a = toChild(r.fromClient("A", req(1, "tools/call", { _meta: { progressToken: "t" } })))[0]!;
  const b = toChild(r.fromClient("B", req(2, "tools/call", { _meta: { progressToken: "t" } })))[0]!;
  const tokenA = (a.params!._meta as { progressToken: string }).progressToken;
  const tokenB = (b.params!._meta as { progressToken: string }).progressToken;
  assertEquals(tokenA === tokenB, false);
  const progress = (token: string) =>
    r.fromChild({
      jsonrpc: "2.0",
      method: "notifications/progress",
      params: { progressToken: token, progress: 5 },
    });
  assertEquals(progress(tokenB), [{
    to: "session",
    session: "B",
    about: 2,
    message: {
      jsonrpc: "2.0",
      method: "notifications/progress",
      params: { progressToken: "t", progress: 5 },
    },
  }]);
  assertEquals(progress("unknown"), []);
});

Deno.test("router: a cancellation is mapped to the child's id, and what comes after for it is dropped", () => {
  const r = ready();
  const sent = toChild(
    r.fromClient("A", req("q", "tools/call", { _meta: { progressToken: 1 } })),
  )[0]!;
  const cancel = r.fromClient("A", {
    jsonrpc: "2.0",
    method: "notifications/cancelled",
    params: { requestId: "q", reason: "user" },
  });
  assertEquals(toChild(cancel), [{
    jsonrpc: "2.0",
    method: "notifications/cancelled",
    params: { requestId: sent.id, reason: "user" },
  }]);
  const token = (sent.params!._meta as { progressToken: string }).progressToken;
  assertEquals(
    r.fromChild({
      jsonrpc: "2.0",
      method: "notifications/progress",
      params: { progressToken: token },
    }),
    [],
  );
  assertEquals(r.fromChild({ jsonrpc: "2.0", id: sent.id!, result: {} }), []);
  // Another session's id of the same value cancels nothing of A's.
  assertEquals(
    r.fromClient("B", {
      jsonrpc: "2.0",
      method: "notifications/cancelled",
      params: { requestId: "q" },
    }),
    [],
  );
});

Deno.test("router: subscriptions are counted per URI; updates reach only the sessions subscribed", () => {
  const r = ready();
  const sub = (s: string, id: number) =>
    r.fromClient(s, req(id, "resources/subscribe", { uri: "u" }));
  const first = sub("A", 1);
  const forwarded = toChild(first);
  assertEquals(forwarded.map((m) => m.method), ["resources/subscribe"]);
  // The second subscriber is answered at once; the child is not asked again.
  assertEquals(toChild(sub("B", 1)), []);
  r.fromChild({ jsonrpc: "2.0", id: forwarded[0]!.id!, result: {} });
  const updated = r.fromChild({
    jsonrpc: "2.0",
    method: "notifications/resources/updated",
    params: { uri: "u" },
  });
  assertEquals(toSession(updated).map((o) => o.session).sort(), ["A", "B"]);
  const unsub = (s: string) => r.fromClient(s, req(9, "resources/unsubscribe", { uri: "u" }));
  assertEquals(toChild(unsub("A")), [], "not the last");
  assertEquals(
    toSession(r.fromChild({
      jsonrpc: "2.0",
      method: "notifications/resources/updated",
      params: { uri: "u" },
    })).map((o) => o.session),
    ["B"],
  );
  assertEquals(toChild(unsub("B")).map((m) => m.method), ["resources/unsubscribe"], "the last");
});

Deno.test("router: log levels per session: the child gets the most verbose, each session what it asked", () => {
  const r = ready();
  const set = (s: string, level: string) => r.fromClient(s, req(3, "logging/setLevel", { level }));
  const first = set("A", "warning");
  assertEquals(toChild(first).map((m) => m.params), [{ level: "warning" }]);
  assertEquals(toSession(first, "A").map((o) => o.message.result), [{}]);
  assertEquals(toChild(set("B", "debug")).map((m) => m.params), [{ level: "debug" }]);
  assertEquals(toChild(set("A", "error")), [], "debug is still the most verbose");
  const log = (level: string) =>
    toSession(r.fromChild({
      jsonrpc: "2.0",
      method: "notifications/message",
      params: { level, data: "x" },
    })).map((o) => o.session);
  assertEquals(log("info"), ["B"]);
  assertEquals(log("critical"), ["A", "B"]);
  assertEquals(toSession(set("A", "loud")).map((o) => o.message.error?.code), [-32602]);
});

Deno.test("router: list_changed reaches every session", () => {
  const r = ready();
  const out = r.fromChild({ jsonrpc: "2.0", method: "notifications/tools/list_changed" });
  assertEquals(toSession(out).map((o) => o.session), ["A", "B"]);
});

Deno.test("router: the child's requests go to the one session with requests in flight that can answer; else an error at once", () => {
  const r = ready();
  const sampling = req(50, "sampling/createMessage", { messages: [] });
  // Nobody has a request in flight: no one to ask.
  assertEquals(toChild(r.fromChild(sampling)).map((m) => m.error?.code), [-32603]);
  const call = toChild(r.fromClient("B", req(4, "tools/call", {})))[0]!;
  const asked = toSession(r.fromChild(sampling));
  assertEquals(asked.length, 1);
  assertEquals([asked[0]!.session, asked[0]!.about, asked[0]!.message.method], [
    "B",
    4,
    "sampling/createMessage",
  ]);
  // B's answer goes back to the child under the child's own id.
  const back = r.fromClient("B", { jsonrpc: "2.0", id: asked[0]!.message.id!, result: { ok: 1 } });
  assertEquals(toChild(back), [{ jsonrpc: "2.0", id: 50, result: { ok: 1 } }]);
  // A session whose client cannot sample is not asked.
  r.fromChild({ jsonrpc: "2.0", id: call.id!, result: {} });
  toChild(r.fromClient("A", req(5, "tools/call", {})));
  assertEquals(toChild(r.fromChild(sampling)).map((m) => m.error?.code), [-32601]);
  // Two sessions in flight: ambiguous.
  toChild(r.fromClient("B", req(6, "tools/call", {})));
  assertEquals(toChild(r.fromChild(sampling)).map((m) => m.error?.code), [-32603]);
  // The child's ping is answered here.
  assertEquals(toChild(r.fromChild(req(51, "ping"))), [{ jsonrpc: "2.0", id: 51, result: {} }]);
});

Deno.test("router: tasks belong to the session that made them", () => {
  const r = ready();
  const made = toChild(r.fromClient("A", req(1, "tools/call", { task: {} })))[0]!;
  r.fromChild({
    jsonrpc: "2.0",
    id: made.id!,
    result: { task: { taskId: "T1", status: "working" } },
  });
  // B can neither get nor cancel it.
  assertEquals(
    toSession(r.fromClient("B", req(2, "tasks/get", { taskId: "T1" }))).map((o) =>
      o.message.error?.code
    ),
    [-32602],
  );
  assertEquals(toChild(r.fromClient("A", req(3, "tasks/get", { taskId: "T1" }))).length, 1);
  // A list is cut to the asking session's tasks.
  const list = toChild(r.fromClient("B", req(4, "tasks/list")))[0]!;
  const listed = r.fromChild({
    jsonrpc: "2.0",
    id: list.id!,
    result: { tasks: [{ taskId: "T1" }, { taskId: "T9" }] },
  });
  assertEquals(toSession(listed)[0]!.message.result, { tasks: [] });
});

Deno.test("router: a closed session's requests are cancelled at the child, its subscriptions dropped", () => {
  const r = ready();
  const call = toChild(r.fromClient("A", req(1, "tools/call", {})))[0]!;
  const sub = toChild(r.fromClient("A", req(2, "resources/subscribe", { uri: "u" })))[0]!;
  r.fromChild({ jsonrpc: "2.0", id: sub.id!, result: {} });
  const out = r.close("A");
  assertEquals(toChild(out).map((m) => [m.method, m.params?.requestId ?? m.params?.uri]), [
    ["notifications/cancelled", call.id],
    ["resources/unsubscribe", "u"],
  ]);
  assertEquals(r.has("A"), false);
  assertEquals(r.fromChild({ jsonrpc: "2.0", id: call.id!, result: {} }), []);
});

Deno.test("router: a child that goes errors what is in flight at once; once back, what sessions held is restored", () => {
  const r = ready();
  toChild(r.fromClient("A", req(1, "tools/call", {})));
  const sub = toChild(r.fromClient("B", req(2, "resources/subscribe", { uri: "u" })))[0]!;
  r.fromChild({ jsonrpc: "2.0", id: sub.id!, result: {} });
  toChild(r.fromClient("B", req(3, "logging/setLevel", { level: "info" })));
  const gone = r.childGone("the server's process exited with code 1");
  assertEquals(
    toSession(gone).map((o) => [o.session, o.message.id, o.message.error?.message]),
    [["A", 1, "the server's process exited with code 1; the request was not answered"]],
  );
  assertEquals(r.init, null);
  r.ready(CHILD_INIT);
  const back = r.restore();
  assertEquals(toChild(back).map((m) => [m.method, m.params]), [
    ["logging/setLevel", { level: "info" }],
    ["resources/subscribe", { uri: "u" }],
  ]);
  assertEquals(
    toSession(back).map((o) => [o.session, o.message.method]),
    [
      ["A", "notifications/tools/list_changed"],
      ["B", "notifications/tools/list_changed"],
      ["A", "notifications/resources/list_changed"],
      ["B", "notifications/resources/list_changed"],
    ],
  );
});
