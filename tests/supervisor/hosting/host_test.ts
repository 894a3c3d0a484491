import { assert, assertEquals, assertRejects } from "../../assert.ts";
import { type HostMode, ServerHost } from "../../../lib/supervisor/hosting/host.ts";
import { workerQueue } from "../../../lib/supervisor/hosting/worker_queue.ts";
import type { ServerConfig } from "../../../lib/config/schema.ts";
import { serverConfig } from "../server_config.ts";
import { newRunId, readRecords, writeRecord } from "../../../lib/process/records.ts";
import { DEFAULTS } from "../../../lib/config/schema.ts";
import { readStatSync } from "../../../lib/process/group.ts";
import {
  FOLLOW_BATCH_BYTES,
  type FollowBatch,
  type FollowBlock,
} from "../../../lib/logs/follow.ts";

import { alive, freePort, groupMembers, waitFor } from "../../integration/harness.ts";
import { CRASH_TAIL } from "../../fixtures/crash_tail.ts";

const DEFAULTS_RESTART = DEFAULTS.restart;

/** A worker that can be told to die of an uncaught error (tests/fixtures/crashing_worker.ts). */
const CRASHING = new URL("../../fixtures/crashing_worker.ts", import.meta.url);

/** Makes `host`'s worker die of an uncaught error. */
function crash(host: ServerHost) {
  host.request({ kind: "logs", tail: CRASH_TAIL }).catch(() => {});
}

function config(
  name: string,
  command: string,
  args: string[],
  extra: Partial<ServerConfig> = {},
): ServerConfig {
  return serverConfig(name, { command, args }, {
    port: freePort(),
    env: { XY_TEST_VAR: "set" },
    ...extra,
  });
}

// The same supervisor code runs in a Worker (as in the daemon) and in-process over a MessageChannel.
for (const mode of ["inline", "worker"] as HostMode[]) {
  Deno.test(`host (${mode}): start, crash and automatic restart, stop, shutdown`, async () => {
    const logDir = await Deno.makeTempDir();
    const host = new ServerHost(
      config("svc", "sh", ["-c", 'echo "var=$XY_TEST_VAR"; read -t 1 x < /dev/zero; sleep 1000']),
      { logDir, mode },
    );
    try {
      assertEquals(await host.request({ kind: "start" }), "started");
      const pid = host.status.pid!;
      assert(await alive(pid));
      // Kill the child's group behind the supervisor's back (once setsid() has made it one):
      // it is restarted.
      await waitFor("the child to lead its group", () => readStatSync(pid)?.pgrp === pid);
      // Killed once its line is out, so the log has it whatever the machine's load.
      await waitFor("its first line in the log", async () => {
        const text = await Deno.readTextFile(`${logDir}/svc.log`).catch(() => "");
        return text.includes("var=set");
      });
      Deno.kill(-pid, "SIGKILL");
      const next = await waitFor("an automatic restart", () => {
        const s = host.status;
        return s.state === "running" && s.pid !== pid ? s : null;
      });
      assertEquals(next.restartCount, 1);
      assertEquals(next.lastExit?.signal, "SIGKILL");
      assertEquals(await host.request({ kind: "stop" }), "stopped");
      assertEquals(await groupMembers(next.pid!), []);
      assertEquals(host.status.state, "stopped");
      const log = await Deno.readTextFile(`${logDir}/svc.log`);
      assert(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[out\] var=set$/m.test(log), log);
      assertEquals(await host.request({ kind: "shutdown" }), "stopped");
    } finally {
      host.close();
      await Deno.remove(logDir, { recursive: true });
    }
  });
}

for (const mode of ["worker", "inline"] as const) {
  // Inline too: a hundred inline actors' first starts in one task held the daemon's thread.
  Deno.test(`host (${mode}): supervisors are made on later turns; a host shut down before its own is made ends at once`, async () => {
    const logDir = await Deno.makeTempDir();
    const hosts = ["q1", "q2", "q3"].map((n) =>
      new ServerHost(config(n, "sleep", ["1000"]), { logDir, mode })
    );
    try {
      const started = hosts[0]!.request({ kind: "start" });
      // Asked to start, its worker not made yet: on its way up, not stopped (a `list` during a boot).
      assertEquals(hosts[0]!.status.state, "starting");
      assertEquals(hosts[0]!.isUp, true);
      assertEquals(hosts[1]!.status.state, "stopped");
      const asked = hosts[2]!.request({ kind: "status" });
      assertEquals(await hosts[2]!.request({ kind: "shutdown" }), "stopped");
      await assertRejects(() => asked, /"q3" is shut down/);
      // A request made before its worker existed is answered once it does.
      assertEquals(await started, "started");
      assertEquals(hosts[0]!.status.state, "running");
      assert(await alive(hosts[0]!.status.pid!));
      assertEquals((await hosts[1]!.request({ kind: "status" })).state, "stopped");
    } finally {
      for (const h of hosts) {
        await h.request({ kind: "shutdown" }).catch(() => {});
        h.close();
      }
      await Deno.remove(logDir, { recursive: true });
    }
  });
}

Deno.test("host (worker): a request's time runs from when its worker exists, not while it waits in the queue", async () => {
  const logDir = await Deno.makeTempDir();
  // Ahead in the queue, as a long line of workers to make would be: 1.5 s of a busy thread.
  workerQueue.add(() => {
    const end = performance.now() + 1_500;
    while (performance.now() < end) {
      // Busy, as `new Worker` is while it makes one.
    }
  });
  const host = new ServerHost(config("q4", "sleep", ["1000"]), {
    logDir,
    mode: "worker",
    timeouts: { queryMs: 1_000, marginMs: 1_000 },
  });
  try {
    assertEquals((await host.request({ kind: "status" })).state, "stopped");
  } finally {
    await host.request({ kind: "shutdown" }).catch(() => {});
    host.close();
    await Deno.remove(logDir, { recursive: true });
  }
});

Deno.test("host (worker): a worker that dies is replaced, its group killed, and the server brought back", async () => {
  const logDir = await Deno.makeTempDir();
  const errors: string[] = [];
  const host = new ServerHost(config("w", "sleep", ["1000"]), {
    logDir,
    mode: "worker",
    workerModule: CRASHING,
    onWorkerError: (m) => errors.push(m),
  });
  try {
    await host.request({ kind: "start" });
    const pid = host.status.pid!;
    crash(host);
    const back = await waitFor("a fresh worker running the server", () => {
      const s = host.status;
      return s.state === "running" && s.pid !== pid ? s : null;
    });
    assertEquals(errors.length, 1);
    assertEquals(await alive(pid), false, "the dead worker's child was killed");
    assert(await alive(back.pid!));
    await host.request({ kind: "shutdown" });
    assertEquals(await alive(back.pid!), false);
  } finally {
    host.close();
    await Deno.remove(logDir, { recursive: true });
  }
});

Deno.test("host (worker): a worker that dies during a backoff is replaced, and the backoff goes on", async () => {
  const logDir = await Deno.makeTempDir();
  const host = new ServerHost(
    config("flap", "false", [], { restart: { ...DEFAULTS_RESTART, backoffInitialMs: 60_000 } }),
    { logDir, mode: "worker", workerModule: CRASHING, onWorkerError: () => {} },
  );
  try {
    await host.request({ kind: "start" });
    const waiting = await waitFor(
      "restarting",
      () => host.status.state === "restarting" ? host.status : null,
    );
    crash(host);
    const resumed = await waitFor("a fresh worker waiting out the same backoff", () => {
      const s = host.status;
      return s.state === "restarting" && s.transitions.length === 1 ? s : null;
    });
    assertEquals(resumed.retryAt, waiting.retryAt);
    assertEquals(resumed.restartCount, waiting.restartCount);
    assertEquals(resumed.pid, null, "no spawn before the backoff ends");
    assertEquals(await host.request({ kind: "stop" }), "stopped");
  } finally {
    await host.request({ kind: "shutdown" }).catch(() => {});
    host.close();
    await Deno.remove(logDir, { recursive: true });
  }
});

Deno.test("host (worker): a dead worker's runs are reaped by their records and marks, a child it never reported included", async () => {
  const logDir = await Deno.makeTempDir();
  const dir = `${logDir}/pids`;
  const host = new ServerHost(config("w", "sleep", ["1000"]), {
    logDir,
    mode: "worker",
    workerModule: CRASHING,
    records: { dir, daemon: newRunId() },
    onWorkerError: () => {},
  });
  // What a worker that died between its spawn and its report leaves: a recorded run, a marked process.
  const run = newRunId();
  writeRecord(dir, { name: "w", run, grace_ms: 1000 });
  const unreported = new Deno.Command("sleep", {
    args: ["1000"],
    env: { XY_SERVER: "w", XY_RUN: run },
    detached: true,
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    crash(host);
    await waitFor("the unreported child stopped", async () => !(await alive(unreported.pid)));
    assertEquals((await unreported.status).signal, "SIGTERM");
    // The record goes once the reaper has seen the process gone.
    await waitFor(
      "its record gone",
      async () => (await readRecords(dir)).every((r) => r.run !== run),
    );
  } finally {
    try {
      unreported.kill("SIGKILL");
    } catch {
      // Stopped, as it should be.
    }
    await unreported.status;
    await host.request({ kind: "shutdown" }).catch(() => {});
    host.close();
    await Deno.remove(logDir, { recursive: true });
  }
});

Deno.test("host (worker): follow batches wait for the daemon's thread: while it is busy one gathers, and past 8 MiB its lines are counted as dropped", async () => {
  const logDir = await Deno.makeTempDir();
  const logFile = `${logDir}/flood.log`;
  const batches: FollowBatch[] = [];
  const host = new ServerHost(
    config("flood", "yes", ["a line of output, again and again"], {
      logs: { ...DEFAULTS.logs, maxSizeBytes: 1024 * 1024 * 1024 },
    }),
    {
      logDir,
      mode: "worker",
      onLogs: (_name, batch) => {
        batches.push(batch);
        if (batches.length > 1) return;
        // The daemon's thread is busy while the child writes some 300,000 lines: the worker
        // must not post batch after batch meanwhile, whatever their number.
        const until = Date.now() + 30_000;
        while ((statSize(logFile) ?? 0) < 20_000_000 && Date.now() < until) {
          // Busy.
        }
      },
    },
  );
  try {
    host.follow(true);
    await host.request({ kind: "start" });
    const [first, second] = await waitFor("the batch after the busy spell", () => {
      return batches.length >= 2 ? [batches[0]!, batches[1]!] : null;
    });
    assert((statSize(logFile) ?? 0) >= 20_000_000, "the child wrote 20 MB during the busy spell");
    assertEquals(second.sent - second.dropped - second.lines, first.sent, "numbered on");
    const size = (b: FollowBlock) => b.text.length + b.lines * 64;
    const bytes = second.blocks.reduce((n, b) => n + size(b), 0);
    // It gathers until past the limit, a block at a time.
    assert(bytes - size(second.blocks.at(-1)!) <= FOLLOW_BATCH_BYTES, `a batch of ${bytes} B`);
    assert(second.dropped > 0, "what did not fit was counted");
    assertEquals(
      second.blocks.at(-1)?.text.split("\n").at(-1),
      "a line of output, again and again",
    );
    await host.request({ kind: "shutdown" });
  } finally {
    host.close();
    await Deno.remove(logDir, { recursive: true });
  }
});

Deno.test("host (worker): a replacing worker numbers lines for followers on, so a follower's snapshot hides none of its lines", async () => {
  const logDir = await Deno.makeTempDir();
  const batches: FollowBatch[] = [];
  let replacedAt = -1;
  const host = new ServerHost(
    config("t", "sh", ["-c", "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.01; done"]),
    {
      logDir,
      mode: "worker",
      workerModule: CRASHING,
      onLogs: (_name, batch) => batches.push(batch),
      onWorkerError: () => replacedAt = batches.length,
    },
  );
  try {
    host.follow(true);
    await host.request({ kind: "start" });
    await waitFor("lines followed", () => batches.length >= 2);
    const snapshot = await host.request({ kind: "logs", tail: 1 });
    const pid = host.status.pid;
    // An init without a config throws inside the worker: it dies, and a fresh one takes over.
    crash(host);
    await waitFor("lines from the fresh worker", () => {
      const s = host.status;
      return replacedAt >= 0 && s.state === "running" && s.pid !== pid &&
        batches.length > replacedAt;
    });
    const before = Math.max(snapshot.sent, ...batches.slice(0, replacedAt).map((b) => b.sent));
    const first = batches[replacedAt]!;
    assert(
      first.sent - first.dropped - first.lines + 1 > before,
      `the fresh worker numbered from ${first.sent - first.lines + 1}, after ${before}`,
    );
    await host.request({ kind: "shutdown" });
  } finally {
    host.close();
    await Deno.remove(logDir, { recursive: true });
  }
});

function statSize(path: string): number | null {
  try {
    return Deno.statSync(path).size;
  } catch {
    return null;
  }
}
