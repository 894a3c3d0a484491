import { assertEquals } from "../assert.ts";
import { parseSse, SseParser } from "../../lib/health/sse.ts";

Deno.test("sse: a priming event with empty data, then the message; comments and ids", () => {
  const text =
    `id: 0\ndata: \n\n: keep-alive\n\nevent: message\nid: 1\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n`;
  assertEquals(parseSse(text), [
    { event: "message", data: "", id: "0" },
    { event: "message", data: `{"jsonrpc":"2.0","id":1,"result":{}}`, id: "1" },
  ]);
});

Deno.test("sse: several data lines are joined with newlines; CRLF works; an unnamed event is a message", () => {
  assertEquals(parseSse('data: {\r\ndata: "a": 1\r\ndata: }\r\n\r\n'), [
    { event: "message", data: '{\n"a": 1\n}' },
  ]);
  assertEquals(parseSse("event: ping\ndata: x\n\n")[0]!.event, "ping");
});

Deno.test("sse: events come out as soon as they are complete, across chunk boundaries", () => {
  const p = new SseParser();
  assertEquals(p.push("data: hel"), []);
  assertEquals(p.push("lo\n"), []);
  assertEquals(p.push("\ndata: next"), [{ event: "message", data: "hello" }]);
  assertEquals(p.push("\n\n"), [{ event: "message", data: "next" }]);
});
