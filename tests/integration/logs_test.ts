import { assert, assertEquals, assertMatch } from "../assert.ts";
import { FIXTURES, freePort, MAIN, Sandbox, waitFor } from "./harness.ts";
import type { StatusDetail } from "../../lib/protocol/types.ts";
import { parseFileLine } from "../../lib/logs/read_files.ts";
import { rotatedNames } from "../../lib/logs/rotating_file.ts";

const deno = JSON.stringify(Deno.execPath());

Deno.test("logs: 200,000 lines with a small max-size are all in the files, once each, in order", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig(
    "chatty",
    `command ${deno}\nargs "run" "${FIXTURES}/numbered.ts" "200000"\nport ${freePort()}\n` +
      `restart { policy "never"; }\nlogs {\n max-size "512KiB"\n keep 30\n}`,
  );
  await sb.daemon();
  await waitFor("chatty to finish", async () => {
    const s = await sb.call<StatusDetail>("status", { name: "chatty" });
    return s.transitions.some((t) => t.from === "running" && t.to === "stopped");
  }, 60_000);
  const path = `${sb.state}/logs/chatty.log`;
  const files = [...rotatedNames(path, 30).reverse(), path];
  let expected = 1;
  let rotated = 0;
  for (const f of files) {
    let text: string;
    try {
      text = await Deno.readTextFile(f);
    } catch {
      continue;
    }
    if (f !== path) rotated++;
    assert(text.length <= 512 * 1024, `${f} is over max-size`);
    for (const line of text.split("\n")) {
      if (!line) continue;
      const parsed = parseFileLine(line);
      assert(parsed && parsed.stream === "stdout", `bad line ${line}`);
      assertEquals(parsed.line, `line ${expected} ${"x".repeat(20)}`);
      expected++;
    }
  }
  assertEquals(expected - 1, 200_000);
  assert(rotated >= 10, `only ${rotated} rotated files`);
  assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
});

Deno.test("logs: --tail N prints exactly the last N; files serve a tail longer than the ring", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig(
    "counter",
    `command ${deno}\nargs "run" "${FIXTURES}/numbered.ts" "30000" "60"\nport ${freePort()}\nrestart { policy "never"; }`,
  );
  await sb.daemon();
  await waitFor("counter to finish", async () => {
    const s = await sb.call<StatusDetail>("status", { name: "counter" });
    return s.state === "stopped" && s.transitions.length > 1;
  }, 30_000);
  const pad = "x".repeat(60);
  const tail = await sb.cli(["logs", "counter", "--tail", "5"]);
  assertEquals(tail.code, 0, tail.stderr);
  assertEquals(
    tail.stdout,
    [29996, 29997, 29998, 29999, 30000].map((i) => `line ${i} ${pad}\n`).join(""),
  );
  // 30,000 lines of ~70 bytes are more than the 1 MiB ring: the oldest come from the file.
  const all = await sb.cli(["logs", "counter", "--tail", "30000"]);
  const lines = all.stdout.trimEnd().split("\n");
  assertEquals(lines.length, 30000);
  assertEquals(lines[0], `line 1 ${pad}`);
  const stamped = await sb.cli(["logs", "counter", "--tail", "1", "--timestamps"]);
  assertMatch(stamped.stdout, /^\d{4}-\d\d-\d\dT[\d:.]+Z line 30000 x+\n$/);
  const errOnly = await sb.cli(["logs", "counter", "--stderr"]);
  assertEquals(errOnly.stdout, "");
  // A tail of 0 is no line, over the socket as from the CLI.
  assertEquals((await sb.cli(["logs", "counter", "--tail", "0"])).stdout, "");
  const client = await sb.rpc();
  try {
    const got: string[] = [];
    const ended = Promise.withResolvers<void>();
    client.onNotification((n) => {
      got.push(n.method);
      if (n.method === "log_end") ended.resolve();
    });
    await client.call("logs", { name: "counter", tail: 0 });
    await ended.promise;
    assertEquals(got, ["log_end"]);
  } finally {
    await client.close();
  }
});

Deno.test("logs: -f prints a new line soon after the child writes it, and ends with exit 2 when the daemon goes", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig(
    "ticker",
    `command "sh"\nargs "-c" "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done"\nport ${freePort()}`,
  );
  const d = await sb.daemon();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../../main.ts", import.meta.url).pathname,
      "logs",
      "ticker",
      "-f",
      "--tail",
      "0",
    ],
    env: sb.env(),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  sb.track(child);
  const reader = child.stdout.getReader();
  let seen = "";
  const dec = new TextDecoder();
  await waitFor("two ticks followed", async () => {
    const { value } = await reader.read();
    seen += dec.decode(value ?? new Uint8Array());
    return (seen.match(/tick \d+\n/g) ?? []).length >= 2;
  });
  reader.releaseLock();
  // The newest followed line is the newest in the log file, within a second.
  const last = Number(/tick (\d+)\n$/.exec(seen)![1]);
  const file = await Deno.readTextFile(`${sb.state}/logs/ticker.log`);
  assert(file.includes(`tick ${last}\n`));
  // A second follower interrupted with Ctrl-C (SIGINT) ends cleanly with exit 0.
  const interrupted = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../main.ts", import.meta.url).pathname, "logs", "ticker", "-f"],
    env: sb.env(),
    stdout: "piped",
    stderr: "null",
  }).spawn();
  sb.track(interrupted);
  const r2 = interrupted.stdout.getReader();
  await waitFor(
    "the second follower printing",
    async () => ((await r2.read()).value?.length ?? 0) > 0,
  );
  r2.releaseLock();
  interrupted.kill("SIGINT");
  assertEquals((await interrupted.status).code, 0);
  await interrupted.stdout.cancel();

  await d.stop();
  const out = await child.output().catch(() => null);
  const status = await child.status;
  assertEquals(status.code, 2);
  if (out) assertMatch(new TextDecoder().decode(out.stderr), /the daemon went away/);
});

Deno.test("logs: -f into a reader that stops reading (| head) ends at once, quietly, with 0", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig(
    "ticker",
    `command "sh"\nargs "-c" "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.01; done"\nport ${freePort()}`,
  );
  await sb.daemon();
  const script =
    `("$XY_DENO" run -A "$XY_MAIN" logs ticker -f 2>"$XY_DIR/err"; echo $? >"$XY_DIR/code")` +
    ` | head -n 3`;
  const out = await new Deno.Command("sh", {
    args: ["-c", script],
    env: sb.env({ XY_DENO: Deno.execPath(), XY_MAIN: MAIN, XY_DIR: sb.dir }),
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals((new TextDecoder().decode(out.stdout).match(/tick \d+\n/g) ?? []).length, 3);
  assertEquals(await Deno.readTextFile(`${sb.dir}/err`), "");
  assertEquals((await Deno.readTextFile(`${sb.dir}/code`)).trim(), "0");
});

Deno.test("logs: a follower that never reads does not hold up the child, and gets log_dropped", async () => {
  // How much it slows the child is a figure of `deno task bench` (the `stuck` figure), not a test.
  await using sb = await Sandbox.create();
  await sb.writeConfig(
    "slow",
    `command ${deno}\nargs "run" "${FIXTURES}/numbered.ts" "300000" "80"\nport ${freePort()}\n` +
      `restart { policy "never"; }\nautostart #false\nlogs { max-size "100MiB"; }`,
  );
  await sb.daemon();
  // A follower that sends the request and never reads its socket.
  const conn = await Deno.connect({ transport: "unix", path: sb.socket });
  await conn.write(new TextEncoder().encode(
    JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "logs",
      params: { name: "slow", follow: true, tail: 0 },
    }) + "\n",
  ));
  // Its answer says the subscription is open; after that it reads nothing until the child is done.
  let text = "";
  const buf = new Uint8Array(1 << 20);
  const dec = new TextDecoder();
  await waitFor("the answer to logs", async () => {
    const n = await conn.read(buf);
    if (n === null) throw new Error("closed");
    text += dec.decode(buf.subarray(0, n));
    return text.includes('"id":1');
  });
  await sb.call("start", { name: "slow" });
  // The child writes all its lines and ends while nobody reads them.
  await waitFor("slow to finish", async () => {
    const st = await sb.call<StatusDetail>("status", { name: "slow" });
    return st.state === "stopped" && st.last_exit_detail?.code === 0;
  }, 60_000);
  // Now read: the follower was told how many lines it missed.
  // A read that never returns must not hang the test: close the socket at the deadline.
  const guard = setTimeout(() => conn.close(), 30_000);
  await waitFor("a log_dropped notification", async () => {
    const n = await conn.read(buf);
    if (n === null) throw new Error("closed");
    text += dec.decode(buf.subarray(0, n));
    return text.includes('"log_dropped"');
  }, 30_000);
  clearTimeout(guard);
  const dropped = text.split("\n").find((l) => l.includes('"log_dropped"'))!;
  assert(JSON.parse(dropped).params.count > 0);
  conn.close();
  // Every line still reached the file.
  const file = await Deno.readTextFile(`${sb.state}/logs/slow.log`);
  assertEquals(file.split("\n").length - 1, 300_000);
});

Deno.test("logs: -f takes a burst of 20,000 lines whole, in order, with nothing dropped", async () => {
  await using sb = await Sandbox.create();
  const go = `${sb.state}/go`;
  // 20,000 lines of 70 B are 3.6 MB as log notifications: more than a follower's queue
  // held before, so most of the burst was dropped (bench/RESULTS.md, "What each change bought", 17).
  await sb.writeConfig(
    "burst",
    `command "sh"\nargs "-c" "echo ready; while [ ! -e '${go}' ]; do sleep 0.02; done; ` +
      `exec ${Deno.execPath()} run ${FIXTURES}/numbered.ts 20000 60; "\n` +
      `port ${freePort()}\nrestart { policy "never"; }`,
  );
  await sb.daemon();
  await waitFor(
    "ready in the log",
    async () =>
      (await Deno.readTextFile(`${sb.state}/logs/burst.log`).catch(() => "")).includes("ready"),
  );
  const follower = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "logs", "burst", "-f", "--tail", "1"],
    env: sb.env(),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  sb.track(follower);
  const reader = follower.stdout.getReader();
  const dec = new TextDecoder();
  let seen = "";
  const pad = "x".repeat(60);
  const read = async () => {
    const { value } = await reader.read();
    seen += dec.decode(value ?? new Uint8Array(), { stream: true });
  };
  // The tail is out, so the subscription is live: now the burst.
  await waitFor("the tail followed", async () => (await read(), seen.startsWith("ready\n")));
  await Deno.writeTextFile(go, "");
  // A read that never returns must not hang the test: end the follower at the deadline.
  const guard = setTimeout(() => follower.kill("SIGKILL"), 30_000);
  try {
    await waitFor("the burst followed", async () => {
      await read();
      return seen.endsWith(`line 20000 ${pad}\n`);
    }, 30_000);
  } finally {
    clearTimeout(guard);
  }
  reader.releaseLock();
  follower.kill("SIGINT");
  const { code } = await follower.status;
  const err = await new Response(follower.stderr).text();
  assertEquals(err, "");
  assertEquals(code, 0);
  const lines = seen.trimEnd().split("\n");
  assertEquals(lines.length, 20_001);
  lines.slice(1).forEach((l, i) => assertEquals(l, `line ${i + 1} ${pad}`));
  await follower.stdout.cancel().catch(() => {});
});

Deno.test("logs: a partial last line and non-UTF-8 output are recorded; a deleted log dir is recreated", async () => {
  await using sb = await Sandbox.create();
  await sb.writeConfig(
    "odd",
    `command "sh"\nargs "-c" "printf 'bad \\\\377\\\\376 bytes\\\\n'; printf 'no newline'"\nport ${freePort()}\nrestart { policy "never"; }`,
  );
  await sb.writeConfig(
    "steady",
    `command "sh"\nargs "-c" "i=0; while true; do i=$((i+1)); echo beat $i; sleep 0.05; done"\nport ${freePort()}`,
  );
  await sb.daemon();
  const odd = await waitFor("odd output recorded", async () => {
    const t = await Deno.readTextFile(`${sb.state}/logs/odd.log`).catch(() => "");
    return t.includes("no newline") ? t : null;
  });
  assertMatch(odd, /\[out\] bad \ufffd\ufffd bytes\n/);
  assertMatch(odd, /\[out\] no newline\n$/);
  await waitFor(
    "steady logging",
    async () =>
      (await Deno.readTextFile(`${sb.state}/logs/steady.log`).catch(() => "")).includes("beat 2"),
  );
  await Deno.remove(`${sb.state}/logs`, { recursive: true });
  const again = await waitFor("the log file recreated", async () => {
    const t = await Deno.readTextFile(`${sb.state}/logs/steady.log`).catch(() => "");
    return t.includes("beat") ? t : null;
  });
  assert(!again.includes("beat 1\n"), "the new file holds new lines");
});
