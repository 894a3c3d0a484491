import { assertEquals } from "../assert.ts";
import { ChildChannel, LineSplitter } from "../../lib/bridge/child_channel.ts";
import type { RpcMessage } from "../../lib/bridge/jsonrpc.ts";

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("child channel: lines of any length, a character split across reads, CRLF", () => {
  const s = new LineSplitter();
  const long = "x".repeat(300_000);
  const bytes = enc(`é${long}\r\nsecond\n`);
  // Cut inside the two bytes of "é", and in the middle of the long line.
  assertEquals(s.push(bytes.subarray(0, 1)), []);
  assertEquals(s.push(bytes.subarray(1, 150_000)), []);
  assertEquals(s.push(bytes.subarray(150_000)), [`é${long}`, "second"]);
  assertEquals(s.push(enc("tail")), []);
  assertEquals(s.end(), "tail");
});

Deno.test("child channel: messages one way, and what is not protocol to the log; sends as lines", async () => {
  const messages: RpcMessage[] = [];
  const text: string[] = [];
  const written: string[] = [];
  const stdout = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(enc('listening on stdio\n{"jsonrpc":"2.0","id":1,"result":{}}\n'));
      c.enqueue(enc('{"not":"rpc"}\n\n{"jsonrpc":"2.0","method":"notifications/x"}'));
      c.close();
    },
  });
  const stdin = new WritableStream<Uint8Array>({
    write: (chunk) => void written.push(new TextDecoder().decode(chunk)),
  });
  const ch = new ChildChannel(stdin, stdout, {
    message: (m) => messages.push(m),
    text: (l) => text.push(l),
  });
  await ch.done;
  assertEquals(messages, [
    { jsonrpc: "2.0", id: 1, result: {} },
    { jsonrpc: "2.0", method: "notifications/x" },
  ]);
  assertEquals(text, ["listening on stdio", '{"not":"rpc"}']);
  ch.send({ jsonrpc: "2.0", id: 2, method: "ping" });
  await ch.closeInput();
  assertEquals(written, ['{"jsonrpc":"2.0","id":2,"method":"ping"}\n']);
});
