import { assert, assertEquals, assertMatch } from "../assert.ts";
import { alive, freePort, Sandbox, waitFor } from "./harness.ts";
import type { ServerSummary } from "../../lib/protocol/types.ts";

async function pids(sb: Sandbox): Promise<Record<string, number | undefined>> {
  const rows = await sb.call<ServerSummary[]>("list");
  return Object.fromEntries(rows.map((r) => [r.name, r.state === "running" ? r.pid : undefined]));
}

const sleeper = (port: number, arg = "1000") => `command "sleep"\nargs "${arg}"\nport ${port}`;

Deno.test("reload: unchanged keeps its pid, changed gets a new one, removed is gone, added runs", async () => {
  await using sb = await Sandbox.create();
  const [p1, p2, p3, p4] = [freePort(), freePort(), freePort(), freePort()];
  await sb.writeConfig("same", sleeper(p1));
  await sb.writeConfig("edit", sleeper(p2));
  await sb.writeConfig("gone", sleeper(p3));
  await sb.daemon();
  const before = await waitFor("three running", async () => {
    const p = await pids(sb);
    return p.same && p.edit && p.gone ? p : null;
  });
  // Whitespace and a comment only: unchanged.
  await sb.writeConfig("same", `// still the same\n${sleeper(p1)}\n`);
  await sb.writeConfig("edit", sleeper(p2, "2000"));
  await Deno.remove(`${sb.config}/gone.kdl`);
  await sb.writeConfig("new", sleeper(p4));
  const r = await sb.cli(["reload"]);
  assertEquals(r.code, 0, r.stderr);
  assertEquals(r.stdout, "added: new\nremoved: gone\nchanged: edit\nunchanged: same\n");
  const after = await waitFor("new running", async () => {
    const p = await pids(sb);
    return p.new ? p : null;
  });
  assertEquals(after.same, before.same);
  assert(after.edit && after.edit !== before.edit);
  assertEquals(await alive(before.edit!), false);
  assertEquals("gone" in after, false);
  assertEquals(await alive(before.gone!), false);
});

Deno.test("reload: an invalid edit keeps the old process running and exits 3; SIGHUP reloads", async () => {
  await using sb = await Sandbox.create();
  const port = freePort();
  await sb.writeConfig("svc", sleeper(port));
  const d = await sb.daemon();
  const before = await waitFor("svc running", async () => (await pids(sb)).svc);
  await sb.writeConfig("svc", `command "sleep"\nport "oops"`);
  const r = await sb.cli(["reload"]);
  assertEquals(r.code, 3);
  assertMatch(r.stderr, /svc\.kdl:2:6: port must be a number, found string "oops"/);
  assertEquals((await pids(sb)).svc, before);
  assert(await alive(before));
  // It runs as the last valid file said, and list and status say the file is invalid.
  const list = await sb.cli(["list"]);
  assertMatch(list.stdout, /\nsvc +running \(config invalid\) /);
  const st = await sb.cli(["status", "svc"]);
  assertMatch(
    st.stdout,
    /config error +invalid, runs as last loaded: .*svc\.kdl:2:6: port must be/,
  );

  await sb.writeConfig("svc", sleeper(port, "3000"));
  Deno.kill(d.pid, "SIGHUP");
  const after = await waitFor("svc restarted by SIGHUP", async () => {
    const p = (await pids(sb)).svc;
    return p && p !== before ? p : null;
  });
  assert(await alive(after));
  assertEquals(await alive(before), false);
  assertEquals((await sb.call<ServerSummary[]>("list"))[0]!.config_error, undefined);
});

Deno.test("reload: a changed server comes back if it was up or failed, and stays stopped if the user stopped it", async () => {
  await using sb = await Sandbox.create();
  const [p1, p2] = [freePort(), freePort()];
  await sb.writeConfig("held", sleeper(p1));
  await sb.writeConfig("broken", `command "/nonexistent/xy-cmd"\nport ${p2}`);
  await sb.daemon();
  await waitFor("held running", async () => (await pids(sb)).held);
  assertEquals((await sb.cli(["stop", "held"])).code, 0);
  await waitFor("broken failed", async () => {
    const rows = await sb.call<ServerSummary[]>("list");
    return rows.find((r) => r.name === "broken")?.state === "failed";
  });
  await sb.writeConfig("held", sleeper(p1, "2000"));
  await sb.writeConfig("broken", sleeper(p2));
  const r = await sb.cli(["reload"]);
  assertEquals(r.stdout, "added: -\nremoved: -\nchanged: broken, held\nunchanged: -\n");
  await waitFor("the fixed one running", async () => (await pids(sb)).broken);
  const rows = await sb.call<ServerSummary[]>("list");
  assertEquals(rows.find((x) => x.name === "held")?.state, "stopped");
});
