import { assertEquals } from "../assert.ts";
import { parseEnviron, parsePsEnv } from "../../lib/process/markers.ts";
import { parseRecord } from "../../lib/process/records.ts";

Deno.test("marks: /proc/<pid>/environ is NUL-separated KEY=VALUE; the first = splits", () => {
  const env = parseEnviron(
    new TextEncoder().encode("PATH=/usr/bin\0XY_SERVER=notes\0XY_RUN=0123abc\0EQ=a=b\0\0"),
  );
  assertEquals([...env], [
    ["PATH", "/usr/bin"],
    ["XY_SERVER", "notes"],
    ["XY_RUN", "0123abc"],
    ["EQ", "a=b"],
  ]);
});

Deno.test("marks: ps -E output (captured), the environment after the command line", () => {
  // `ps axeww -o pid=,command=` on Linux; macOS's `ps -wwE -o pid=,command=` has the same layout.
  const captured = [
    "18924 sleep 32 PATH=/usr/bin:/bin HOME=/home/me",
    "18925 sleep 31 PATH=/usr/bin:/bin XY_SERVER=notes XY_RUN=0123456789abcdef0123456789abcdef",
    "  301 node server.js --port 8421 XY_RUN=fedcba9876543210fedcba9876543210 LANG=C.UTF-8",
    "  302 echo XY_RUN=short",
    "",
  ].join("\n");
  assertEquals(parsePsEnv(captured), [
    { pid: 18925, run: "0123456789abcdef0123456789abcdef", server: "notes" },
    { pid: 301, run: "fedcba9876543210fedcba9876543210" },
  ]);
});

Deno.test("records: a run's record before and after its spawn; torn and foreign files are not records", () => {
  const run = "0123456789abcdef0123456789abcdef";
  assertEquals(parseRecord(JSON.stringify({ name: "web", run, daemon: "d1", grace_ms: 500 })), {
    name: "web",
    run,
    daemon: "d1",
    grace_ms: 500,
  });
  assertEquals(
    parseRecord(
      JSON.stringify({ name: "web", run, grace_ms: 500, pid: 42, pgid: 42, start_time: "7" }),
    ),
    { name: "web", run, grace_ms: 500, pid: 42, pgid: 42, start_time: "7" },
  );
  // A record of an earlier xy, without a run: still the leader's pid and start time.
  assertEquals(
    parseRecord(JSON.stringify({ name: "old", pid: 42, pgid: 42, start_time: "7", grace_ms: 1 })),
    { name: "old", grace_ms: 1, pid: 42, pgid: 42, start_time: "7" },
  );
  for (
    const bad of [
      `{"name":"web","run":"${run}"`, // torn
      "not json",
      "[]",
      JSON.stringify({ name: "../etc", run }),
      JSON.stringify({ name: "web" }), // neither a run nor a process
      JSON.stringify({ name: "web", run: "short" }),
      JSON.stringify({ name: "web", pid: 0, pgid: 0, start_time: "1" }),
      JSON.stringify({ name: "web", pid: 1, pgid: 1, start_time: "1" }),
    ]
  ) assertEquals(parseRecord(bad), undefined, bad);
});
