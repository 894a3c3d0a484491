import { assert, assertEquals } from "../assert.ts";
import { commandProblem, FOUND_FOR_MS } from "../../lib/process/command_check.ts";
import { denoSpawner, SpawnError } from "../../lib/process/spawner.ts";
import { readStatSync } from "../../lib/process/group.ts";
import { waitFor } from "../integration/harness.ts";

Deno.test("spawner: a child soon leads its own session and group, under the pid spawn gave", async () => {
  const child = denoSpawner.spawn({ command: "sleep", args: ["1000"], env: {} });
  try {
    await waitFor("its own session", () => readStatSync(child.pid)?.pgrp === child.pid);
    const sid = Number(
      Deno.readTextFileSync(`/proc/${child.pid}/stat`).split(") ")[1]!.split(" ")[3],
    );
    assertEquals(sid, child.pid);
    await waitFor(
      "the command to run",
      () => Deno.readTextFileSync(`/proc/${child.pid}/cmdline`).split("\0")[0] === "sleep",
    );
  } finally {
    Deno.kill(-child.pid, "SIGKILL");
    await child.status;
    await child.stdout.cancel();
    await child.stderr.cancel();
  }
});

Deno.test("spawner: a signal at once after the spawn reaches the child, session or not yet", async () => {
  for (let i = 0; i < 20; i++) {
    const child = denoSpawner.spawn({ command: "sleep", args: ["1000"], env: {} });
    assert(denoSpawner.signalGroup(child.pid, "SIGKILL"), "signalled");
    assertEquals((await child.status).signal, "SIGKILL");
    await child.stdout.cancel();
    await child.stderr.cancel();
  }
});

Deno.test("spawner: a command found runnable is not looked up again for FOUND_FOR_MS", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const tool = `${dir}/tool`;
    await Deno.writeTextFile(tool, "#!/bin/sh\necho hi\n");
    await Deno.chmod(tool, 0o755);
    const opts = { path: dir, cwd: dir };
    assertEquals(commandProblem("tool", { ...opts, now: 1_000 }), undefined);
    await Deno.chmod(tool, 0o644);
    // Within the time: still taken as runnable (a hundred servers of one command look once).
    assertEquals(commandProblem("tool", { ...opts, now: 1_000 + FOUND_FOR_MS - 1 }), undefined);
    // After it: looked up again, and refused.
    const gone = `command "tool" not found on PATH`;
    assertEquals(commandProblem("tool", { ...opts, now: 1_000 + FOUND_FOR_MS }), gone);
    // A refusal is not remembered: once runnable again it is found at once.
    await Deno.chmod(tool, 0o755);
    assertEquals(commandProblem("tool", { ...opts, now: 1_000 + FOUND_FOR_MS + 1 }), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("spawner: what exec would refuse is refused before the spawn, saying why", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/plain`, "echo hi\n");
    await Deno.writeTextFile(`${dir}/script`, "#!/nonexistent/interpreter\necho hi\n", {
      mode: 0o755,
    });
    await Deno.chmod(`${dir}/script`, 0o755);
    const path = "/usr/bin:/bin";
    const rows: [string, string | undefined][] = [
      ["sleep", undefined],
      ["xy-no-such-command", `command "xy-no-such-command" not found on PATH`],
      ["/nonexistent/bin", `command "/nonexistent/bin" not found (or its interpreter is missing)`],
      [`${dir}/plain`, `command "${dir}/plain" is not executable (or is a directory)`],
      [dir, `command "${dir}" is not executable (or is a directory)`],
      [`${dir}/script`, `command "${dir}/script" not found (or its interpreter is missing)`],
      ["./script", `command "./script" not found (or its interpreter is missing)`],
    ];
    for (const [command, expected] of rows) {
      assertEquals(commandProblem(command, { path, cwd: dir }), expected, command);
    }
    let error: unknown;
    try {
      denoSpawner.spawn({ command: "xy-no-such-command", args: [], env: {} });
    } catch (e) {
      error = e;
    }
    assert(error instanceof SpawnError, String(error));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
