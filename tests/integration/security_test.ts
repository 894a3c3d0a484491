import { assert, assertEquals, assertMatch } from "../assert.ts";
import { freePort, Sandbox, waitFor } from "./harness.ts";
import type { ServerSummary } from "../../lib/protocol/types.ts";

Deno.test("security: a world-writable config file or dir is refused, saying why", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig("open", `command "sleep"\nargs "1000"\nport ${freePort()}`);
  await sb.writeConfig("fine", `command "sleep"\nargs "1000"\nport ${freePort()}`);
  await Deno.chmod(`${sb.config}/open.kdl`, 0o666);
  await Deno.chmod(`${sb.config}/fine.kdl`, 0o600);
  const check = await sb.cli(["config", "check"]);
  assertEquals(check.code, 3);
  assertMatch(
    check.stderr,
    /open\.kdl:1:1: refused: file .*open\.kdl is writable by group or others \(mode 0666\); run chmod go-w/,
  );
  await sb.daemon();
  const rows = await waitFor("fine running", async () => {
    const r = await sb.call<ServerSummary[]>("list");
    return r.find((x) => x.name === "fine")?.state === "running" ? r : null;
  });
  assertEquals(rows.find((r) => r.name === "open")!.state, "invalid");

  await Deno.chmod(`${sb.config}/open.kdl`, 0o600);
  await Deno.chmod(sb.config, 0o777);
  const dir = await sb.cli(["config", "check"]);
  assertEquals(dir.code, 3);
  assertMatch(dir.stderr, /refused: config dir .* is writable by group or others \(mode 0777\)/);
  await Deno.chmod(sb.config, 0o700);
});

Deno.test("security: status shows env names, never env values", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig(
    "secret",
    `command "sleep"\nargs "1000"\nport ${freePort()}\nenv {\n  API_TOKEN "hunter2-value"\n}`,
  );
  await sb.daemon();
  await waitFor(
    "secret running",
    async () => (await sb.call<ServerSummary[]>("list"))[0]?.state === "running",
  );
  for (const args of [["status", "secret"], ["status", "secret", "--json"], ["list", "--json"]]) {
    const r = await sb.cli(args);
    assertEquals(r.code, 0, r.stderr);
    assert(!r.stdout.includes("hunter2"), `${args.join(" ")} printed an env value`);
  }
  assertMatch((await sb.cli(["status", "secret"])).stdout, /env +API_TOKEN/);
});
