import { assertEquals, assertMatch } from "../assert.ts";
import { decodeServer } from "../../lib/config/decode.ts";
import { checkAcrossFiles, type Decoded } from "../../lib/config/load.ts";
import { parseDuration, parseSize } from "../../lib/config/units.ts";

const FULL = `command "/usr/local/bin/insikt-mcp"   // required
args "--http" "--port" "8421"
port 8421
env {
    RUST_LOG "info"
}
working-dir "/tmp/work"
autostart #true
depends-on "db" "auth"
restart {
    policy "on-failure"
    backoff-initial "1s"
    backoff-max "30s"
    max-retries-per-minute 5
    reset-after "10s"
}
stop {
    grace "10s"
}
health {
    mcp "/mcp"
    interval "10s"
    timeout "2s"
    retries 3
    start-period "30s"
}
logs {
    max-size "10MiB"
    keep 5
}
`;

function errorsOf(text: string, name = "alpha"): string[] {
  const r = decodeServer(text, { file: `${name}.kdl`, name });
  return r.ok ? [] : r.errors.map((e) => e.message);
}

Deno.test("config: the spec's full example decodes with every value", () => {
  const r = decodeServer(FULL, { file: "insikt.kdl", name: "insikt" });
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
  assertEquals(r.config, {
    name: "insikt",
    file: "insikt.kdl",
    command: "/usr/local/bin/insikt-mcp",
    args: ["--http", "--port", "8421"],
    port: 8421,
    env: { RUST_LOG: "info" },
    workingDir: "/tmp/work",
    autostart: true,
    dependsOn: ["db", "auth"],
    restart: {
      policy: "on-failure",
      backoffInitialMs: 1000,
      backoffMaxMs: 30000,
      maxRetriesPerMinute: 5,
      resetAfterMs: 10000,
    },
    stop: { graceMs: 10000 },
    health: {
      kind: "mcp",
      path: "/mcp",
      intervalMs: 10000,
      timeoutMs: 2000,
      retries: 3,
      startPeriodMs: 30000,
    },
    logs: { maxSizeBytes: 10 * 1024 * 1024, keep: 5 },
    transport: "http",
  });
});

Deno.test("config: a stdio server: its block with every value, or defaults, and health timings only", () => {
  const full = decodeServer(
    `command "npx"\nargs "-y" "@modelcontextprotocol/server-memory"\nport 8431\n` +
      `transport "stdio"\nstdio {\n  sharing "per-session"\n  max-sessions 4\n` +
      `  session-idle "5m"\n  log-messages #true\n  auth "none"\n}\n` +
      `health {\n  interval "5s"\n  start-period "1m"\n}`,
    { file: "memory.kdl", name: "memory" },
  );
  if (!full.ok) throw new Error(full.errors.map((e) => e.message).join("\n"));
  assertEquals(full.config.transport, "stdio");
  assertEquals(full.config.stdio, {
    sharing: "per-session",
    maxSessions: 4,
    sessionIdleMs: 300_000,
    logMessages: true,
    auth: "none",
  });
  assertEquals(full.config.health, {
    kind: "stdio",
    intervalMs: 5000,
    timeoutMs: 2000,
    retries: 3,
    startPeriodMs: 60_000,
  });
  const bare = decodeServer(`command "x"\nport 1\ntransport "stdio"`, { file: "a.kdl", name: "a" });
  if (!bare.ok) throw new Error("should decode");
  assertEquals(bare.config.stdio, {
    sharing: "shared",
    maxSessions: 16,
    sessionIdleMs: 1_800_000,
    logMessages: false,
    auth: "token",
  });
  assertEquals(bare.config.health?.kind, "stdio");
});

Deno.test("config: a minimal file gets every default", () => {
  const r = decodeServer(`command "x"\nport 1`, { file: "a.kdl", name: "a" });
  if (!r.ok) throw new Error("should decode");
  assertEquals(r.config.restart.policy, "on-failure");
  assertEquals(r.config.restart.backoffInitialMs, 1000);
  assertEquals(r.config.restart.backoffMaxMs, 30000);
  assertEquals(r.config.restart.maxRetriesPerMinute, 5);
  assertEquals(r.config.restart.resetAfterMs, 10000);
  assertEquals(r.config.stop.graceMs, 10000);
  assertEquals(r.config.autostart, true);
  assertEquals(r.config.logs, { maxSizeBytes: 10485760, keep: 5 });
  assertEquals(r.config.health, undefined);
  assertEquals(r.config.transport, "http");
  assertEquals(r.config.stdio, undefined);
});

Deno.test("config: KDL v1 documents are accepted", () => {
  const r = decodeServer(`command "x"\nport 1\nautostart false\nargs "a" 2`, {
    file: "a.kdl",
    name: "a",
  });
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
  assertEquals(r.config.autostart, false);
  assertEquals(r.config.args, ["a", "2"]);
});

Deno.test("config: http and tcp probes", () => {
  const http = decodeServer(`command "x"\nport 1\nhealth { http "/healthz"; }`, {
    file: "a.kdl",
    name: "a",
  });
  const tcp = decodeServer(`command "x"\nport 1\nhealth {\n tcp\n interval "1s"\n}`, {
    file: "a.kdl",
    name: "a",
  });
  assertEquals(http.ok && http.config.health?.kind, "http");
  assertEquals(http.ok && http.config.health?.path, "/healthz");
  assertEquals(tcp.ok && tcp.config.health, {
    kind: "tcp",
    intervalMs: 1000,
    timeoutMs: 2000,
    retries: 3,
    startPeriodMs: 30000,
  });
});

// One row per kind of config error: the text, then the expected error(s) with position.
const ERRORS: [string, string, RegExp[]][] = [
  ["missing command", `port 1`, [/^alpha\.kdl:1:1: missing required key "command"/]],
  ["missing port", `command "x"`, [/^alpha\.kdl:1:1: missing required key "port"/]],
  ["wrong type", `command "x"\nport "nine"`, [
    /^alpha\.kdl:2:6: port must be a number, found string "nine"$/,
  ]],
  ["port out of range", `command "x"\nport 70000`, [
    /^alpha\.kdl:2:6: port must be an integer from 1 to 65535, found 70000$/,
  ]],
  ["port zero", `command "x"\nport 0`, [
    /alpha\.kdl:2:6: port must be an integer from 1 to 65535, found 0/,
  ]],
  ["fractional port", `command "x"\nport 1.5`, [/port must be an integer/]],
  ["unknown policy", `command "x"\nport 1\nrestart {\n  policy "sometimes"\n}`, [
    /^alpha\.kdl:4:10: restart\.policy must be one of "always", "on-failure", "never", found "sometimes"$/,
  ]],
  ["unknown key with suggestion", `command "x"\nport 1\nrestrat { }`, [
    /^alpha\.kdl:3:1: unknown key "restrat" \(did you mean "restart"\?\)$/,
  ]],
  ["unknown nested key with suggestion", `command "x"\nport 1\nrestart {\n  polcy "always"\n}`, [
    /^alpha\.kdl:4:3: unknown key "polcy" in restart \(did you mean "policy"\?\)$/,
  ]],
  ["unknown key without a near match", `command "x"\nport 1\nzzzzzzzz 1`, [
    /unknown key "zzzzzzzz"; known keys: command/,
  ]],
  ["node given twice", `command "x"\nport 1\nport 2`, [
    /^alpha\.kdl:3:1: port is given twice \(first on line 2\)$/,
  ]],
  [
    "extra arguments on one line",
    `command "x"\nport 1\nrestart { policy "always" backoff-initial "1s" }`,
    [
      /^alpha\.kdl:3:11: restart\.policy takes one value but has 2 more/,
    ],
  ],
  ["extra port arguments", `command "x"\nport 1 2`, [/port takes one value but has 1 more/]],
  ["bad duration", `command "x"\nport 1\nstop {\n  grace "10 sec"\n}`, [
    /^alpha\.kdl:4:9: stop\.grace must be a duration such as "500ms", "10s", "1m" or "1h", found "10 sec"$/,
  ]],
  ["a duration past a day", `command "x"\nport 1\nrestart { backoff-max "25h"; }`, [
    /^alpha\.kdl:3:23: restart\.backoff-max must be at most "24h", found "25h"$/,
  ]],
  ["a duration of 2^31 ms", `command "x"\nport 1\nstop { grace "2147483648ms"; }`, [
    /stop\.grace must be at most "24h", found "2147483648ms"/,
  ]],
  ["a relative working-dir", `command "x"\nport 1\nworking-dir "srv/app"`, [
    /^alpha\.kdl:3:13: working-dir must be an absolute path, found "srv\/app"$/,
  ]],
  ["bad size", `command "x"\nport 1\nlogs { max-size "10MB"; }`, [
    /logs\.max-size must be a size such as .* found "10MB"/,
  ]],
  ["bad boolean", `command "x"\nport 1\nautostart "yes"`, [
    /autostart must be a boolean, found string "yes"/,
  ]],
  ["health without a probe", `command "x"\nport 1\nhealth { interval "1s"; }`, [
    /health needs a probe/,
  ]],
  ["health path without slash", `command "x"\nport 1\nhealth { mcp "mcp"; }`, [
    /health\.mcp must start with "\/"/,
  ]],
  [
    "backoff-max below initial",
    `command "x"\nport 1\nrestart {\n backoff-initial "10s"\n backoff-max "1s"\n}`,
    [
      /restart\.backoff-max must not be shorter than restart\.backoff-initial/,
    ],
  ],
  ["invalid KDL", `command "x"\nport 1 {`, [/^alpha\.kdl:\d+:\d+: invalid KDL/]],
  ["an unknown transport", `command "x"\nport 1\ntransport "sse"`, [
    /^alpha\.kdl:3:11: transport must be one of "http", "stdio", found "sse"$/,
  ]],
  ["a stdio block without transport stdio", `command "x"\nport 1\nstdio { auth "none"; }`, [
    /^alpha\.kdl:3:1: stdio \{ … \} goes with transport "stdio"$/,
  ]],
  [
    "an unknown key in stdio, with a suggestion",
    `command "x"\nport 1\ntransport "stdio"\nstdio {\n  sharring "shared"\n}`,
    [/^alpha\.kdl:5:3: unknown key "sharring" in stdio \(did you mean "sharing"\?\)$/],
  ],
  ["an unknown sharing", `command "x"\nport 1\ntransport "stdio"\nstdio { sharing "pooled"; }`, [
    /stdio\.sharing must be one of "shared", "per-session", found "pooled"/,
  ]],
  ["a probe for a stdio server", `command "x"\nport 1\ntransport "stdio"\nhealth { mcp "/mcp"; }`, [
    /^alpha\.kdl:4:10: health\.mcp: a stdio server is checked by xy itself/,
  ]],
  ["max-sessions of 0", `command "x"\nport 1\ntransport "stdio"\nstdio { max-sessions 0; }`, [
    /stdio\.max-sessions must be an integer from 1 to 1000, found 0/,
  ]],
  ["several errors at once", `comand "x"\nport "p"\nrestart { policy "x"; }`, [
    /^alpha\.kdl:1:1: unknown key "comand" \(did you mean "command"\?\)/,
    /^alpha\.kdl:1:1: missing required key "command"/,
    /port must be a number/,
    /restart\.policy must be one of/,
  ]],
];

for (const [what, text, expected] of ERRORS) {
  Deno.test(`config: ${what} is an error naming file, line and column`, () => {
    const got = errorsOf(text);
    assertEquals(got.length, expected.length, `errors: ${JSON.stringify(got)}`);
    expected.forEach((re, i) => assertMatch(got[i]!, re));
  });
}

Deno.test("config: a bad file name is an error", () => {
  assertMatch(errorsOf(`command "x"\nport 1`, "Bad.Name")[0]!, /bad server name "Bad.Name"/);
});

function decoded(name: string, text: string): Decoded {
  const r = decodeServer(text, { file: `${name}.kdl`, name });
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
  return { config: r.config, positions: r.positions };
}

Deno.test("config: a port used by two servers names both", () => {
  const { configs, invalid } = checkAcrossFiles([
    decoded("a", `command "x"\nport 5000`),
    decoded("b", `command "x"\nport 5000`),
  ]);
  assertEquals(configs.map((c) => c.name), ["a"]);
  assertEquals(invalid.length, 1);
  assertMatch(
    invalid[0]!.errors[0]!.message,
    /^b\.kdl:2:6: port 5000 is already used by server "a" \(a\.kdl\)$/,
  );
});

Deno.test("config: on a port clash, a running server keeps its port and the newcomer is the invalid one", () => {
  const files = [
    decoded("aaa", `command "x"\nport 5000`),
    decoded("web", `command "x"\nport 5000`),
  ];
  const { configs, invalid } = checkAcrossFiles(files, new Set(["web"]));
  assertEquals(configs.map((c) => c.name), ["web"]);
  assertMatch(
    invalid[0]!.errors[0]!.message,
    /^aaa\.kdl:2:6: port 5000 is already used by server "web" \(web\.kdl\)$/,
  );
});

Deno.test("config: depends-on naming a missing server, and a cycle, are errors", () => {
  const { configs, invalid } = checkAcrossFiles([
    decoded("a", `command "x"\nport 1\ndepends-on "b"`),
    decoded("b", `command "x"\nport 2\ndepends-on "a"`),
    decoded("c", `command "x"\nport 3\ndepends-on "ghost"`),
    decoded("d", `command "x"\nport 4\ndepends-on "c"`),
  ]);
  assertEquals(configs.map((c) => c.name), ["d"]);
  const messages = invalid.flatMap((f) => f.errors.map((e) => e.message));
  assertEquals(messages.filter((m) => /forms a cycle: a → b → a/.test(m)).length, 2);
  assertEquals(
    messages.filter((m) =>
      /^c\.kdl:3:1: depends-on names "ghost", but there is no ghost\.kdl$/.test(m)
    ).length,
    1,
  );
});

Deno.test("config: depends-on naming a file that is there but invalid is no error of the dependent's", () => {
  const { configs, invalid } = checkAcrossFiles(
    [decoded("web", `command "x"\nport 1\ndepends-on "db"`)],
    new Set(),
    new Set(["db"]),
  );
  // It waits for db, blocked, as for a server that an error across files made invalid.
  assertEquals([configs.map((c) => c.name), invalid], [["web"], []]);
});

Deno.test("units: durations and sizes", () => {
  assertEquals(parseDuration("500ms"), 500);
  assertEquals(parseDuration("10s"), 10_000);
  assertEquals(parseDuration("1m"), 60_000);
  assertEquals(parseDuration("2h"), 7_200_000);
  assertEquals(parseDuration("10"), undefined);
  assertEquals(parseDuration("1.5s"), undefined);
  assertEquals(parseDuration("-1s"), undefined);
  assertEquals(parseSize("10MiB"), 10 * 1024 * 1024);
  assertEquals(parseSize("1GiB"), 1024 ** 3);
  assertEquals(parseSize("512B"), 512);
  assertEquals(parseSize("10MB"), undefined);
});
