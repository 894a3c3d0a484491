import { assertEquals, assertRejects } from "../../assert.ts";
import { PendingRequests } from "../../../lib/supervisor/hosting/requests.ts";

Deno.test("requests: a deadline not armed does not run; armed, it fails the request; an answer settles it", async () => {
  const r = new PendingRequests();
  const late = (id: number) => () => new Error(`${id} late`);
  const waiting = r.wait<string>(1, 20, late(1), false);
  const answered = r.wait<string>(2, 20, late(2), false);
  // Longer than the deadline, but it has not started: nothing fails.
  await new Promise((ok) => setTimeout(ok, 60));
  r.answer(2, { ok: true, value: "two" });
  assertEquals(await answered, "two");
  r.armAll();
  await assertRejects(() => waiting, /1 late/);
  // An answer after the deadline is ignored.
  r.answer(1, { ok: true, value: "too late" });
  const failed = r.wait<string>(3, 1_000, late(3), true);
  r.answer(3, { ok: false, error: new Error("refused") });
  await assertRejects(() => failed, /refused/);
  const dropped = r.wait<string>(4, 1_000, late(4), false);
  r.rejectAll(new Error("shut down"));
  await assertRejects(() => dropped, /shut down/);
});
