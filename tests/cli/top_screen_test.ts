/** `xy top`'s screen, pure: a state and a size in, the lines out. */
import { assert, assertEquals } from "../assert.ts";
import { topScreen, type TopState } from "../../lib/cli/top_screen.ts";
import { splitKeys } from "../../lib/cli/top.ts";
import type { ServerSummary } from "../../lib/protocol/types.ts";

const row = (name: string, extra: Partial<ServerSummary> = {}): ServerSummary => ({
  name,
  state: "running",
  port: 1,
  restart_count: 0,
  uptime_secs: 3725,
  cpu_percent: 1.5,
  rss_bytes: 12 * 1024 * 1024,
  processes: 1,
  ...extra,
});
const state = (rows: ServerSummary[], extra: Partial<TopState> = {}): TopState => ({
  rows,
  selected: rows[0]?.name ?? null,
  view: "list",
  logLines: [],
  message: null,
  ...extra,
});
const plain = { color: false };

Deno.test("top screen: 80×24, every server's state, health, CPU, MEM, restarts and uptime; the selected one marked", () => {
  const lines = topScreen(
    state([
      row("memory", { health: "healthy", health_kind: "stdio", health_latency_ms: 3 }),
      { name: "web", state: "failed", port: 1, restart_count: 5 },
    ], { selected: "web" }),
    { columns: 80, rows: 24 },
    plain,
  );
  assertEquals(lines.length, 24);
  for (const l of lines) assertEquals([...l].length, 80, JSON.stringify(l));
  assertEquals(lines[0]!.trimEnd(), "xy top — 2 servers, 1 running");
  assertEquals(
    lines[1]!.trimEnd(),
    "  NAME               STATE      HEALTH        CPU     MEM     RESTARTS UPTIME",
  );
  assertEquals(
    lines[2]!.trimEnd(),
    "  memory             running    stdio ok 3ms  1.5%    12.0M   0        1h 2m",
  );
  assertEquals(
    lines[3]!.trimEnd(),
    "> web                failed     -             -       -       5        -",
  );
  assertEquals(lines[23]!.trimEnd(), "↑↓/jk select  l/Enter log  r restart  s stop/start  q quit");
  assertEquals(lines.join("").includes("\x1b"), false, "NO_COLOR: no escape at all");
});

Deno.test("top screen: the selected row stays in view in a long list; colour marks states and the selection", () => {
  const rows = Array.from({ length: 40 }, (_, i) => row(`s${i}`));
  const lines = topScreen(state(rows, { selected: "s30" }), { columns: 80, rows: 24 }, {
    color: true,
  });
  assertEquals(lines.length, 24);
  const selected = lines.find((l) => l.includes("> s30"));
  assert(selected?.startsWith("\x1b[7m"), "the selection in reverse video");
  assert(lines.some((l) => l.startsWith("\x1b[32m")), "running in green");
});

Deno.test("top screen: a log followed, its last lines; narrow terminals still fit", () => {
  const logLines = Array.from({ length: 100 }, (_, i) => `line ${i} ${"x".repeat(120)}`);
  const lines = topScreen(state([row("web")], { view: "logs", logLines }), {
    columns: 40,
    rows: 10,
  }, plain);
  assertEquals(lines.length, 10);
  for (const l of lines) assertEquals([...l].length, 40);
  assertEquals(lines[0]!.trimEnd(), "xy top — web: running, its log");
  assert(lines[2]!.startsWith("line 93 "), lines[2]);
  assert(lines[8]!.startsWith("line 99 ") && lines[8]!.endsWith("…"));
  // The keys line too is cut to the width, and says so.
  assertEquals(lines[9], "Esc back  r restart  s stop/start  q qu…");
  const narrow = topScreen(
    state([row("a-very-long-server-name")]),
    { columns: 40, rows: 8 },
    plain,
  );
  for (const l of narrow) assert([...l].length <= 40);
});

Deno.test("top: a chunk of raw input is split into keys, arrows whole", () => {
  assertEquals(splitKeys("jj\x1b[Aq"), ["j", "j", "\x1b[A", "q"]);
  assertEquals(splitKeys("\x1b"), ["\x1b"]);
  assertEquals(splitKeys("\x1bOB\r"), ["\x1bOB", "\r"]);
});
