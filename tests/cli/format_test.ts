import { assertEquals, assertMatch } from "../assert.ts";
import { formatBytes, formatList, formatStatus, healthCell } from "../../lib/cli/format.ts";
import { formatDuration, formatSetting } from "../../lib/config/units.ts";
import { VERSION } from "../../lib/version.ts";

Deno.test("format: the list table has the spec's columns and human durations", () => {
  const text = formatList([
    {
      name: "alpha",
      state: "running",
      pid: 123,
      port: 8421,
      uptime_secs: 3725,
      restart_count: 2,
      health: "healthy",
      health_kind: "mcp",
      health_latency_ms: 4,
      cpu_percent: 12.3,
      rss_bytes: 54 * 1024 * 1024 + 300 * 1024,
      processes: 3,
    },
    { name: "bad", state: "invalid", port: 0, restart_count: 0 },
  ], { color: false });
  assertEquals(
    text,
    "NAME   STATE    PID  PORT  UPTIME  RESTARTS  CPU    MEM    HEALTH\n" +
      "alpha  running  123  8421  1h 2m   2         12.3%  54.3M  mcp ok 4ms\n" +
      "bad    invalid  -    -     -       0         -      -      -\n",
  );
});

Deno.test("format: memory in powers of 1024, as ps and top count it", () => {
  assertEquals(
    [0, 812 * 1024, 12.4 * 1024 ** 2, 150 * 1024 ** 2, 1.25 * 1024 ** 3].map(formatBytes),
    ["0B", "812K", "12.4M", "150M", "1.3G"],
  );
});

Deno.test("format: the health column says the probe, its verdict and its latency", () => {
  const row = { name: "a", state: "running" as const, port: 1, restart_count: 0 };
  assertEquals([
    healthCell(row),
    healthCell({ ...row, health: "unknown", health_kind: "tcp" }),
    healthCell({ ...row, health: "unhealthy", health_kind: "http", health_latency_ms: 12 }),
    healthCell({ ...row, health: "needs-auth", health_kind: "mcp", health_latency_ms: 3 }),
  ], ["-", "tcp ?", "http unhealthy 12ms", "mcp needs-auth 3ms"]);
});

Deno.test("format: colour only when asked", () => {
  const rows = [{ name: "a", state: "failed" as const, port: 1, restart_count: 0 }];
  assertEquals(formatList(rows, { color: true }).includes("\x1b[31m"), true);
  assertEquals(formatList(rows, { color: false }).includes("\x1b"), false);
});

Deno.test("format: status shows env names and stderr, never env values", () => {
  const text = formatStatus(
    {
      name: "a",
      state: "failed",
      ready: false,
      port: 1,
      restart_count: 5,
      transitions: [{ from: "running", to: "failed", at_unix_ms: 0, reason: "exited with code 1" }],
      stderr_tail: ["boom"],
      log_file: "/s/logs/a.log",
      log_write_errors: 0,
      config_file: "/c/a.kdl",
      command: "x",
      args: ["--flag", "two words"],
      env_names: ["TOKEN"],
      autostart: true,
      depends_on: [],
      policy: "on-failure",
      last_error: "exited with code 1",
    },
    { color: false },
    1000,
  );
  assertMatch(text, /^a: failed\n/);
  assertMatch(text, /env +TOKEN/);
  assertMatch(text, /command +x --flag 'two words'/);
  assertMatch(text, /last stderr:\n {4}boom/);
});

Deno.test("format: durations", () => {
  assertEquals(
    ["0ms", "999ms", "1s", "59s", "1m", "1m 1s", "1h", "1d 1h"],
    [
      0,
      999,
      1000,
      59_000,
      60_000,
      61_000,
      3_600_000,
      90_000_000,
    ].map(formatDuration),
  );
});

Deno.test("format: a configured duration is said exactly, not rounded down", () => {
  assertEquals(
    [1500, 300, 30_000, 90_000, 2_250].map(formatSetting),
    ["1500ms", "300ms", "30s", "1m 30s", "2250ms"],
  );
});

Deno.test("version: lib/version.ts matches deno.json", async () => {
  const json = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  assertEquals(VERSION, json.version);
});
