/** The per-session router, rule by rule (SPEC §11, per-session): one session, one child of its own. */
import { assertEquals } from "../assert.ts";
import { type DirectOut, DirectRouter } from "../../lib/bridge/direct_router.ts";
import type { RpcMessage } from "../../lib/bridge/jsonrpc.ts";

function req(id: number | string, method: string, params?: Record<string, unknown>): RpcMessage {
  return { jsonrpc: "2.0", id, method, ...(params ? { params } : {}) };
}
const note = (method: string, params?: Record<string, unknown>): RpcMessage => ({
  jsonrpc: "2.0",
  method,
  ...(params ? { params } : {}),
});
const toChild = (outs: DirectOut[]) => outs.filter((o) => o.to === "child").map((o) => o.message);
const toClient = (outs: DirectOut[]) =>
  outs.filter((o) => o.to === "client") as Extract<DirectOut, { to: "client" }>[];

Deno.test("direct router: a request reaches the child under an id of xy's; its answer comes back under the client's", () => {
  const r = new DirectRouter();
  const [sent] = toChild(r.fromClient(req("a", "tools/call", { name: "t" })));
  assertEquals(typeof sent!.id, "number");
  assertEquals(sent!.params, { name: "t" });
  assertEquals(r.inflight, 1);
  const back = toClient(r.fromChild({ jsonrpc: "2.0", id: sent!.id!, result: { ok: 1 } }));
  assertEquals(back, [{
    to: "client",
    message: { jsonrpc: "2.0", id: "a", result: { ok: 1 } },
    about: "a",
  }]);
  assertEquals(r.inflight, 0);
  // A second answer for the same id, or one for an id never sent, goes nowhere.
  assertEquals(r.fromChild({ jsonrpc: "2.0", id: sent!.id!, result: {} }), []);
  assertEquals(r.fromChild({ jsonrpc: "2.0", id: 999, result: {} }), []);
});

Deno.test("direct router: xy's own requests never collide with the client's, and their answers go to xy", () => {
  const r = new DirectRouter();
  const { id, out } = r.own("ping");
  const [client] = toChild(r.fromClient(req(id, "tools/list")));
  assertEquals(out.to === "child" && out.message.method, "ping");
  assertEquals(client!.id !== id, true);
  assertEquals(r.fromChild({ jsonrpc: "2.0", id, result: {} }), [{
    to: "xy",
    id,
    message: { jsonrpc: "2.0", id, result: {} },
  }]);
});

Deno.test("direct router: progress goes on its request's stream, with the client's own token", () => {
  const r = new DirectRouter();
  const [sent] = toChild(r.fromClient(req(7, "tools/call", { _meta: { progressToken: 7 } })));
  assertEquals((sent!.params as { _meta: unknown })._meta, { progressToken: 7 });
  const p = note("notifications/progress", { progressToken: 7, progress: 1 });
  assertEquals(toClient(r.fromChild(p)), [{ to: "client", message: p, about: 7 }]);
  // Once answered, its progress is of no request.
  r.fromChild({ jsonrpc: "2.0", id: sent!.id!, result: {} });
  assertEquals(r.fromChild(p), []);
});

Deno.test("direct router: a cancellation is mapped to the child's id, and a later answer is dropped", () => {
  const r = new DirectRouter();
  const [sent] = toChild(r.fromClient(req("x", "tools/call")));
  const cancel = toChild(r.fromClient(note("notifications/cancelled", { requestId: "x" })));
  assertEquals(cancel, [note("notifications/cancelled", { requestId: sent!.id })]);
  assertEquals(r.fromChild({ jsonrpc: "2.0", id: sent!.id!, result: {} }), []);
  // Of a request not in flight: nothing reaches the child.
  assertEquals(r.fromClient(note("notifications/cancelled", { requestId: "nope" })), []);
});

Deno.test("direct router: the child's requests go to the client under xy's ids, on the one request in flight; pings are answered here", () => {
  const r = new DirectRouter();
  // The client's own ping never reaches the child (it would start or keep a child for nothing).
  assertEquals(r.fromClient(req(1, "ping")), [{
    to: "client",
    message: { jsonrpc: "2.0", id: 1, result: {} },
    about: 1,
  }]);
  assertEquals(r.fromChild(req(5, "ping")), [{
    to: "child",
    message: { jsonrpc: "2.0", id: 5, result: {} },
  }]);
  r.fromClient(req("call", "tools/call"));
  const [ask] = toClient(r.fromChild(req(5, "sampling/createMessage", { m: 1 })));
  assertEquals(ask!.about, "call");
  assertEquals(ask!.message.method, "sampling/createMessage");
  assertEquals(String(ask!.message.id).startsWith("xy-ask-"), true);
  assertEquals(toChild(r.fromClient({ jsonrpc: "2.0", id: ask!.message.id!, result: { r: 1 } })), [
    { jsonrpc: "2.0", id: 5, result: { r: 1 } },
  ]);
  // Answered once only; an answer to something never asked goes nowhere.
  assertEquals(r.fromClient({ jsonrpc: "2.0", id: ask!.message.id!, result: {} }), []);
  // With no request in flight, it goes to the client's GET stream (no `about`).
  const r2 = new DirectRouter();
  const [free] = toClient(r2.fromChild(req(6, "roots/list")));
  assertEquals(free!.about, undefined);
});

Deno.test("direct router: the child's gone: requests in flight get an error at once, and what it asked is forgotten", () => {
  const r = new DirectRouter();
  const [a] = toChild(r.fromClient(req("a", "tools/call")));
  r.fromClient(req("b", "tools/call"));
  r.fromClient(note("notifications/cancelled", { requestId: "b" }));
  const [ask] = toClient(r.fromChild(req(9, "elicitation/create")));
  const outs = r.childGone("the session's process exited with code 1");
  assertEquals(outs, [{
    to: "client",
    message: {
      jsonrpc: "2.0",
      id: "a",
      error: {
        code: -32603,
        message: "the session's process exited with code 1; the request was not answered",
      },
    },
    about: "a",
  }]);
  assertEquals(r.inflight, 0);
  // The old child's ids mean nothing to the next one.
  assertEquals(r.fromChild({ jsonrpc: "2.0", id: a!.id!, result: {} }), []);
  assertEquals(r.fromClient({ jsonrpc: "2.0", id: ask!.message.id!, result: {} }), []);
});

Deno.test("direct router: the level and subscriptions are asked again of a new child; a refused subscribe is not", () => {
  const r = new DirectRouter();
  r.fromClient(req(1, "logging/setLevel", { level: "debug" }));
  r.fromClient(req(2, "resources/subscribe", { uri: "a://1" }));
  const [refused] = toChild(r.fromClient(req(3, "resources/subscribe", { uri: "a://2" })));
  r.fromChild({ jsonrpc: "2.0", id: refused!.id!, error: { code: -32602, message: "no" } });
  r.fromClient(req(4, "resources/subscribe", { uri: "a://3" }));
  r.fromClient(req(5, "resources/unsubscribe", { uri: "a://3" }));
  r.childGone("gone");
  assertEquals(
    toChild(r.restore()).map((m) => [m.method, m.params]),
    [["logging/setLevel", { level: "debug" }], ["resources/subscribe", { uri: "a://1" }]],
  );
});

Deno.test("direct router: the client's initialized goes no further (xy sends the child its own); other notifications pass", () => {
  const r = new DirectRouter();
  assertEquals(r.fromClient(note("notifications/initialized")), []);
  const roots = note("notifications/roots/list_changed");
  assertEquals(toChild(r.fromClient(roots)), [roots]);
  const changed = note("notifications/tools/list_changed");
  assertEquals(toClient(r.fromChild(changed)), [{ to: "client", message: changed }]);
});
