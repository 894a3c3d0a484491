import { assertEquals } from "../assert.ts";
import { isSelfConnect, portInUse } from "../../lib/process/port.ts";

const addr = (port: number): Deno.NetAddr => ({ transport: "tcp", hostname: "127.0.0.1", port });

Deno.test("portInUse: a listener's port is taken; once it is closed, free", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  // Accepts and closes what the guard opens, so nothing is left behind.
  const accepting = (async () => {
    for await (const conn of listener) conn.close();
  })();
  try {
    assertEquals(await portInUse(port), true);
  } finally {
    listener.close();
    await accepting;
  }
  // A closed port is anybody's: another process (a suite beside this one) may take it at once.
  // So a port found taken after its close is tried again with another; one of a few is free.
  let free = !(await portInUse(port));
  for (let i = 0; i < 5 && !free; i++) {
    const again = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const next = again.addr.port;
    again.close();
    free = !(await portInUse(next));
  }
  assertEquals(free, true);
});

Deno.test("isSelfConnect: a connection that reached its own port is no listener", () => {
  // The kernel gave the connection the port it was dialling: a TCP self-connect.
  assertEquals(isSelfConnect(addr(36814), addr(36814)), true);
  assertEquals(isSelfConnect(addr(51000), addr(36814)), false);
  assertEquals(isSelfConnect({ ...addr(36814), hostname: "127.0.0.2" }, addr(36814)), false);
});
