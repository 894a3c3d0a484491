/**
 * The official MCP conformance suite (`@modelcontextprotocol/conformance`,
 * from npm; its server scenarios) against a stdio build of its own reference
 * server (tests/fixtures/conformance_server.ts), served through xy in both
 * sharing modes: every check that passes against that server over its own
 * Streamable HTTP passes through xy too.
 */
import { assert, assertEquals } from "../assert.ts";
import { freePort, Sandbox, waitFor } from "./harness.ts";
import type { StatusDetail } from "../../lib/protocol/types.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const deno = Deno.execPath();
const SUITE = "npm:@modelcontextprotocol/conformance@0.1.16";
const SERVER = `${ROOT}tests/fixtures/conformance_server.ts`;

/** Each scenario's checks passed and failed, and the suite's total. */
interface Report {
  readonly scenarios: Record<string, [number, number]>;
  readonly total: [number, number];
  readonly text: string;
}

/** Runs the suite's server scenarios against `url`. */
async function conformance(url: string): Promise<Report> {
  const cwd = await Deno.makeTempDir({ prefix: "xy-conformance-" });
  const out = await new Deno.Command(deno, {
    // Outside the repository and without its config: the suite's packages are its own.
    args: ["run", "-A", "--no-config", "--no-lock", SUITE, "server", "--url", url],
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output().finally(() => Deno.remove(cwd, { recursive: true }));
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  const scenarios: Record<string, [number, number]> = {};
  for (const m of text.matchAll(/^[✓✗] (\S+): (\d+) passed, (\d+) failed/gm)) {
    scenarios[m[1]!] = [Number(m[2]), Number(m[3])];
  }
  const total = text.match(/^Total: (\d+) passed, (\d+) failed/m);
  assert(total, `no total in the suite's output:\n${text}`);
  return { scenarios, total: [Number(total[1]), Number(total[2])], text };
}

Deno.test("conformance: every check that passes natively passes through xy, shared and per-session", async () => {
  // The reference: the same server over its own Streamable HTTP.
  const native = freePort();
  const direct = new Deno.Command(deno, {
    args: ["run", "-A", "--config", `${ROOT}deno.json`, SERVER, "--http", String(native)],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await using sb = await Sandbox.create();
  try {
    const ports = { shared: freePort(), "per-session": freePort() };
    for (const [sharing, port] of Object.entries(ports)) {
      await sb.writeConfig(
        sharing,
        `command "${deno}"\nargs "run" "-A" "--config" "${ROOT}deno.json" "${SERVER}" "--stdio"\n` +
          `port ${port}\ntransport "stdio"\nhealth { start-period "60s"; }\n` +
          // The suite sends no token; and it opens a session per scenario and ends none, so
          // per session it needs more children at once than the default 16.
          `stdio { sharing "${sharing}"; auth "none"; max-sessions 64; }\n`,
      );
    }
    await sb.daemon();
    for (const name of Object.keys(ports)) {
      await waitFor(`${name} running`, async () => {
        return (await sb.call<StatusDetail>("status", { name })).state === "running";
      }, 60_000);
    }
    await waitFor("the native server listening", async () => {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: native }).catch(() => null);
      c?.close();
      return c !== null;
    }, 60_000);
    const reference = await conformance(`http://127.0.0.1:${native}/mcp`);
    assertEquals(reference.total[1], 0, reference.text);
    assert(Object.keys(reference.scenarios).length >= 30, reference.text);
    for (const [sharing, port] of Object.entries(ports)) {
      const through = await conformance(`http://127.0.0.1:${port}/mcp`);
      assertEquals(through.scenarios, reference.scenarios, `${sharing}:\n${through.text}`);
      assertEquals(through.total, reference.total, sharing);
    }
  } finally {
    direct.kill("SIGKILL");
    await direct.status;
  }
});
