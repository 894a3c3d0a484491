import { assertEquals } from "../assert.ts";
import { SessionIds } from "../../lib/bridge/session_ids.ts";

Deno.test("session ids: an id issued under a key verifies under it, after a restart too; others do not", async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const id = await new SessionIds(key).issue();
  // Another instance with the same key: the daemon after a restart.
  const again = new SessionIds(key);
  assertEquals(await again.verify(id), true);
  assertEquals(await again.verify(id.slice(0, -1) + (id.endsWith("A") ? "B" : "A")), false);
  assertEquals(await again.verify("no-dot"), false);
  assertEquals(await again.verify(`${id.split(".")[0]}.`), false);
  assertEquals(await new SessionIds(crypto.getRandomValues(new Uint8Array(32))).verify(id), false);
  assertEquals(id === await again.issue(), false);
});
