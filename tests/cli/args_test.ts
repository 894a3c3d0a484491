import { assert, assertEquals, assertMatch } from "../assert.ts";
import { parseArgv } from "../../lib/cli/args.ts";
import { COMMANDS } from "../../lib/cli/commands.ts";
import { run } from "../../lib/cli/run.ts";
import type { Io } from "../../lib/cli/io.ts";

/** A terminal that records what the CLI writes. */
function fakeIo(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env: (n) => env[n],
    isTerminal: false,
  };
  return { io, out: () => out.join(""), err: () => err.join("") };
}

function usageError(argv: string[]): string {
  try {
    parseArgv(argv);
  } catch (e) {
    assert(e instanceof Error && e.name === "UsageError", `${argv.join(" ")}: ${e}`);
    return e.message;
  }
  throw new Error(`expected a usage error for ${argv.join(" ")}`);
}

Deno.test("args: commands, names, --all and usage errors", () => {
  assertEquals<unknown>(parseArgv(["start", "a", "b", "--wait"]).command, {
    kind: "start",
    names: ["a", "b"],
    all: false,
    wait: true,
  });
  assertEquals<unknown>(parseArgv(["stop", "--all"]).command, {
    kind: "stop",
    names: [],
    all: true,
    wait: false,
  });
  assertEquals<unknown>(
    parseArgv(["list", "--json", "--socket", "/x.sock"]).paths.socket,
    "/x.sock",
  );
  assertEquals<unknown>(parseArgv(["--version"]).command, { kind: "version" });
  assertEquals<unknown>(parseArgv(["status", "--help"]).command, { kind: "help", topic: "status" });
  for (
    const bad of [["start"], ["start", "a", "--all"], ["bogus"], ["list", "--nope"], ["status"], [
      "status",
      "Bad!",
    ], ["stop", "--wait", "a"]]
  ) {
    let threw = false;
    try {
      parseArgv(bad);
    } catch (e) {
      threw = e instanceof Error && e.name === "UsageError";
    }
    assertEquals(threw, true, `expected a usage error for ${bad.join(" ")}`);
  }
});

Deno.test("args: logs options, daemon actions, config check, help and version forms", () => {
  assertEquals<unknown>(parseArgv(["logs", "web", "-n", "20", "-f", "--stderr", "-t"]).command, {
    kind: "logs",
    name: "web",
    tail: 20,
    follow: true,
    stream: "stderr",
    timestamps: true,
  });
  assertEquals<unknown>(parseArgv(["logs", "web"]).command, {
    kind: "logs",
    name: "web",
    follow: false,
    timestamps: false,
  });
  assertEquals<unknown>(parseArgv(["daemon"]).command, {
    kind: "daemon",
    action: "run",
    background: false,
  });
  assertEquals<unknown>(parseArgv(["daemon", "stop", "--state-dir", "/s"]).command, {
    kind: "daemon",
    action: "stop",
    background: false,
  });
  assertEquals(parseArgv(["daemon", "stop", "--state-dir", "/s"]).paths.stateDir, "/s");
  assertEquals<unknown>(parseArgv(["config", "check"]).command, {
    kind: "config",
    action: "check",
  });
  assertEquals<unknown>(parseArgv([]).command, { kind: "help" });
  assertEquals<unknown>(parseArgv(["-h"]).command, { kind: "help" });
  assertEquals<unknown>(parseArgv(["help", "logs"]).command, { kind: "help", topic: "logs" });
  assertEquals<unknown>(parseArgv(["version"]).command, { kind: "version" });
  assertEquals<unknown>(parseArgv(["-V"]).command, { kind: "version" });
  assertMatch(
    usageError(["logs", "web", "--tail", "ten"]),
    /--tail takes a whole number, found "ten"/,
  );
  assertMatch(usageError(["logs", "web", "--stdout", "--stderr"]), /not both/);
  assertMatch(usageError(["logs"]), /logs takes one server name/);
  assertMatch(usageError(["daemon", "restart"]), /unknown action "restart"/);
  assertMatch(usageError(["config", "fix"]), /expected check/);
  assertMatch(usageError(["reload", "now"]), /reload: unexpected argument "now"/);
  assertMatch(usageError(["list", "--nope"]), /^list: unknown option '--nope'/);
  assertMatch(usageError(["bogus"]), /unknown command "bogus" \(see xy --help\)/);
});

Deno.test("help: the overview lists every command of the table, each command has its own page", async () => {
  const top = fakeIo();
  assertEquals(await run(["--help"], top.io), 0);
  for (const c of COMMANDS) {
    for (const usage of c.usage) {
      assert(top.out().includes(`  ${usage}`), `overview lacks ${usage}`);
    }
    assert(top.out().includes(c.summary), `overview lacks the summary of ${c.name}`);
  }
  assertMatch(top.out(), /Exit codes: 0 ok, 1 operational error, 2 daemon unreachable/);
  for (const c of COMMANDS) {
    const page = fakeIo();
    assertEquals(await run([c.name, "--help"], page.io), 0);
    assertMatch(page.out(), new RegExp(`^Usage: xy ${c.name}`));
    assert(page.out().includes(c.help), `${c.name} --help lacks its text`);
    for (const [name, o] of Object.entries(c.options)) {
      assertEquals(page.out().includes(`--${name}`), !o.hidden, `${c.name} --help and --${name}`);
    }
  }
});

Deno.test("run: a usage error is one xy: line on stderr and exit 64; --version prints the version", async () => {
  const bad = fakeIo();
  assertEquals(await run(["start"], bad.io), 64);
  assertEquals(bad.err(), "xy: start: give server names or --all\n");
  assertEquals(bad.out(), "");
  const v = fakeIo();
  assertEquals(await run(["--version"], v.io), 0);
  assertMatch(v.out(), /^xy \d+\.\d+\.\d+\n$/);
});

Deno.test("run: with XY_NO_AUTOSTART and no daemon, a client command exits 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const t = fakeIo({ XY_NO_AUTOSTART: "1", XY_SOCKET: `${dir}/none.sock`, HOME: dir });
    assertEquals(await run(["list"], t.io), 2);
    assertMatch(t.err(), /^xy: no daemon is listening on .*none\.sock\n$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("args: option forms — --name=value, -nVALUE, flag groups, -- — and their errors", () => {
  const logs = (argv: string[]) => parseArgv(["logs", "web", ...argv]).command;
  const want = { kind: "logs", name: "web", tail: 5, follow: true, timestamps: true };
  assertEquals<unknown>(logs(["--tail=5", "-f", "-t"]), want);
  assertEquals<unknown>(logs(["-n5", "-ft"]), want);
  assertEquals<unknown>(logs(["-ftn", "5"]), want);
  assertEquals<unknown>(logs(["-tf", "--tail", "5"]), want);
  assertEquals<unknown>(parseArgv(["list", "--socket=/a=b.sock"]).paths.socket, "/a=b.sock");
  assertMatch(usageError(["list", "--", "-x"]), /^list: unexpected argument "-x"/);
  assertMatch(usageError(["stop", "--all=yes"]), /^stop: option '--all' does not take a value/);
  assertMatch(usageError(["logs", "web", "--tail"]), /^logs: option '--tail N' needs a value/);
  assertMatch(usageError(["logs", "web", "-n"]), /^logs: option '-n N' needs a value/);
  assertMatch(usageError(["logs", "web", "-fz"]), /^logs: unknown option '-z'/);
  assertMatch(usageError(["list", "--constructor"]), /^list: unknown option '--constructor'/);
});
