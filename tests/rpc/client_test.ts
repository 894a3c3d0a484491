import { assertRejects } from "../assert.ts";
import { RpcClient } from "../../lib/rpc/client.ts";

Deno.test("client: a connection the daemon closed first is closed here too, its socket not leaked", async () => {
  const dir = await Deno.makeTempDir();
  const listener = Deno.listen({ transport: "unix", path: `${dir}/s.sock` });
  try {
    const client = await RpcClient.connect(`${dir}/s.sock`);
    // The daemon goes away (a restart, a kill) before the client is done with it.
    (await listener.accept()).close();
    await client.closed;
    await assertRejects(() => client.request("list"), /closed the connection/);
    // The test's resource sanitizer fails it if the socket is still open here.
    await client.close();
  } finally {
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});
