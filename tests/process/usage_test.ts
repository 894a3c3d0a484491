/**
 * What a server's processes cost (SPEC §13): CPU from two samples, its group
 * and its marked processes (grandchildren, one that left the group), Linux's
 * /proc and macOS's `ps` output.
 */
import { assert, assertEquals } from "../assert.ts";
import {
  cpuTimeMs,
  parseProcStat,
  parsePsUsage,
  type ProcUsage,
  usageOf,
  type UsageSample,
  UsageScanner,
} from "../../lib/process/usage.ts";
import { denoSpawner } from "../../lib/process/spawner.ts";
import { waitFor } from "../integration/harness.ts";

const proc = (pid: number, pgrp: number, cpuMs: number, extra: Partial<ProcUsage> = {}) => ({
  pid,
  pgrp,
  start: `s${pid}`,
  cpuMs,
  rssBytes: 1000,
  ...extra,
});
const sample = (at: number, procs: ProcUsage[]): UsageSample => ({
  at,
  procs: new Map(procs.map((p) => [p.pid, p])),
});

Deno.test("usage: CPU over the time between two samples, summed over the group and the marked processes", () => {
  const RUN = "a".repeat(32);
  const before = sample(1000, [
    proc(10, 10, 500), // the leader
    proc(11, 10, 100), // a grandchild in its group
    proc(20, 20, 0, { run: RUN }), // left the group (setsid), still marked
    proc(30, 30, 9000), // someone else's
    proc(12, 10, 700), // exits before the next sample
  ]);
  const after = sample(1500, [
    proc(10, 10, 700), // +200 ms
    proc(11, 10, 150), // +50 ms
    proc(20, 20, 100, { run: RUN }), // +100 ms
    proc(30, 30, 9400),
    proc(13, 10, 40), // new since: all of its 40 ms
    proc(14, 10, 60, { start: "reused" }), // a pid the first sample knew as another process
  ]);
  const u = usageOf(sample(before.at, [...before.procs.values(), proc(14, 40, 500)]), after, {
    groups: [10],
    runs: [RUN],
  });
  assertEquals(u.processes, 5);
  assertEquals(u.rssBytes, 5000);
  // (200 + 50 + 100 + 40 + 60) ms over 500 ms: 90% of one core.
  assertEquals(u.cpuPercent, 90);
  assertEquals(usageOf(before, after, { groups: [99], runs: [] }), {
    cpuPercent: 0,
    rssBytes: 0,
    processes: 0,
  });
});

Deno.test("usage: /proc/<pid>/stat read past a command name with spaces and parentheses; zombies cost nothing", () => {
  const units = { tickMs: 10, pageBytes: 4096 };
  // Fields after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
  // utime stime cutime cstime priority nice threads itrealvalue starttime vsize rss …
  const line = (state: string) =>
    `4242 (a) (b c) ${state} 1 4240 4240 0 -1 4194560 100 0 0 0 30 12 0 0 20 0 1 0 98765 1000 250 18446744073709551615`;
  assertEquals(parseProcStat(4242, line("S"), units), {
    pid: 4242,
    pgrp: 4240,
    start: "98765",
    cpuMs: 420,
    rssBytes: 250 * 4096,
  });
  assertEquals(parseProcStat(4242, line("Z"), units), undefined);
});

Deno.test("usage: macOS's ps output (captured), and its CPU time formats", () => {
  const out = `  501   501  13088     0:00.05 Mon Dec  7 10:00:01 2026
  812   501 204800  1:02:03.50 Mon Dec  7 09:00:00 2026
  900   900    512   2-03:04:05 Sun Dec  6 08:00:00 2026
`;
  assertEquals(parsePsUsage(out), [
    { pid: 501, pgrp: 501, start: "Mon Dec  7 10:00:01 2026", cpuMs: 50, rssBytes: 13088 * 1024 },
    {
      pid: 812,
      pgrp: 501,
      start: "Mon Dec  7 09:00:00 2026",
      cpuMs: 3_723_500,
      rssBytes: 204800 * 1024,
    },
    {
      pid: 900,
      pgrp: 900,
      start: "Sun Dec  6 08:00:00 2026",
      cpuMs: (2 * 86400 + 3 * 3600 + 4 * 60 + 5) * 1000,
      rssBytes: 512 * 1024,
    },
  ]);
  assertEquals([cpuTimeMs("0:01.25"), cpuTimeMs("10:00"), cpuTimeMs("01:00:00")], [
    1250,
    600_000,
    3_600_000,
  ]);
});

Deno.test({
  name: "usage: real processes — a busy group with a grandchild, and a marked one that left it",
  ignore: Deno.build.os !== "linux", // /proc; macOS's ps parsing is tested on captured output above.
  fn: async () => {
    const run = crypto.randomUUID().replaceAll("-", "");
    // The leader spins; a grandchild sleeps in its group; another leaves it with setsid.
    const child = denoSpawner.spawn({
      command: "sh",
      args: ["-c", "sleep 300 & setsid sleep 301 & while :; do :; done"],
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", XY_RUN: run },
    });
    try {
      const scanner = new UsageScanner();
      const who = { groups: [child.pid], runs: [run] };
      await waitFor("its three processes", async () => {
        const s = await scanner.sample();
        return usageOf(s, s, who).processes === 3;
      });
      const before = await scanner.sample();
      await new Promise((r) => setTimeout(r, 300));
      const after = await scanner.sample();
      const u = usageOf(before, after, who);
      assertEquals(u.processes, 3);
      assert(u.cpuPercent > 20 && u.cpuPercent < 210, `cpu ${u.cpuPercent}%`);
      assert(u.rssBytes > 100 * 1024, `rss ${u.rssBytes}`);
    } finally {
      denoSpawner.signalGroup(child.pid, "SIGKILL");
      await child.status;
      await child.stdout.cancel();
      await child.stderr.cancel();
      // The one that left the group is found by its mark.
      const left = (await new UsageScanner().sample()).procs.values().filter((p) => p.run === run);
      for (const p of left) Deno.kill(p.pid, "SIGKILL");
    }
  },
});
