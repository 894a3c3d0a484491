/** What servers cost, through the real daemon and CLI (SPEC §13): CPU, MEM and processes. */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import type { ServerSummary, StatusDetail } from "../../lib/protocol/types.ts";
import { freePort, Sandbox, waitFor } from "./harness.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const deno = Deno.execPath();

Deno.test("usage: list and status say what each server's processes cost, a per-session server's children included", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig(
    "busy",
    `command "sh"\nargs "-c" "sleep 300 & while :; do :; done"\nport ${freePort()}\n`,
  );
  await sb.writeConfig("idle", `command "sleep"\nargs "300"\nport ${freePort()}\n`);
  await sb.writeConfig(
    "off",
    `command "sleep"\nargs "300"\nport ${freePort()}\nautostart #false\n`,
  );
  const port = freePort();
  await sb.writeConfig(
    "notes",
    `command "${deno}"\nargs "run" "-A" "--config" "${ROOT}deno.json" "${ROOT}examples/stdio_server.ts"\n` +
      `port ${port}\ntransport "stdio"\nhealth { start-period "60s"; }\n` +
      `stdio { sharing "per-session"; auth "none"; }\n`,
  );
  await sb.daemon();
  await waitFor("all up", async () => {
    const rows = await sb.call<ServerSummary[]>("list");
    return rows.filter((r) => r.state === "running").length === 3;
  }, 60_000);
  // A session of the per-session server: its child is one of the server's processes.
  const init = await fetch(`http://127.0.0.1:${port}/mcp`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: {
        protocolVersion: "2025-11-25",
        capabilities: {},
        clientInfo: { name: "c", version: "1" },
      },
    }),
  });
  assertEquals(init.status, 200);
  await init.body?.cancel();
  // Answers within half a second share their samples: wait for one taken since the session began.
  const rows = await waitFor("the busy one seen busy, and the session's child", async () => {
    const rows = await sb.call<ServerSummary[]>("list");
    const busy = (rows.find((r) => r.name === "busy")?.cpu_percent ?? 0) > 20;
    return busy && rows.find((r) => r.name === "notes")?.processes === 1 ? rows : undefined;
  }, 30_000);
  const by = (n: string) => rows.find((r) => r.name === n)!;
  assertEquals(by("busy").processes, 2, "the leader and the sleep it started");
  assert(by("busy").rss_bytes! > 0);
  assertEquals(by("idle").processes, 1);
  assert(by("idle").cpu_percent! < 5, `idle at ${by("idle").cpu_percent}%`);
  assertEquals(by("notes").processes, 1, "its session's child (the one that checked it is gone)");
  assert(by("notes").rss_bytes! > 1024 * 1024);
  assertEquals([by("off").cpu_percent, by("off").rss_bytes, by("off").processes], [
    undefined,
    undefined,
    undefined,
  ]);
  const list = await sb.cli(["list"]);
  assertMatch(list.stdout, /^NAME +STATE +PID +PORT +UPTIME +RESTARTS +CPU +MEM +HEALTH\n/);
  assertMatch(list.stdout, /\nbusy +running +\d+ +\d+ +\S+ +0 +\d+(\.\d)?% +\d+(\.\d)?[KMG] +-\n/);
  assertMatch(list.stdout, /\noff +stopped +- +\d+ +- +0 +- +- +-\n/);
  const status = await sb.cli(["status", "busy"]);
  assertMatch(
    status.stdout,
    /\n {2}usage +CPU \d+(\.\d)?% of a core, memory \d+(\.\d)?[KMG], 2 processes\n/,
  );
  const s = await sb.call<StatusDetail>("status", { name: "notes" });
  assertEquals(s.processes, 1);
});
