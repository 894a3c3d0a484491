import { assert, assertEquals } from "../assert.ts";
import { setPipeSize } from "../../lib/process/pipe_size.ts";
import { denoSpawner } from "../../lib/process/spawner.ts";
import { waitFor } from "../integration/harness.ts";

const linux = Deno.build.os === "linux";

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return await new Response(stream).text();
}

Deno.test({
  name: "pipe size: a widened pipe takes 512 KiB from the child while nobody reads it",
  // F_SETPIPE_SZ is Linux's; elsewhere setPipeSize says false (the next test).
  ignore: !linux,
  fn: async () => {
    // The child writes 512 KiB, then says so on stderr and exits. Into a 64 KiB pipe it
    // would be held until stdout is read (a write blocked before the widening goes on
    // once the pipe is wider).
    const child = denoSpawner.spawn({
      command: "sh",
      args: ["-c", "head -c 524288 /dev/zero; echo written >&2"],
      env: {},
    });
    try {
      assert(child.resizePipe?.("stdout", 1024 * 1024), "the spawner widens its child's pipe");
      const err = text(child.stderr);
      await waitFor("the child to have written 512 KiB unread", async () => {
        const st = await Deno.readTextFile(`/proc/${child.pid}/stat`).catch(() => "");
        return st === "" || st.split(") ")[1]!.startsWith("Z");
      }, 10_000);
      assertEquals(await err, "written\n");
      assertEquals((await new Response(child.stdout).arrayBuffer()).byteLength, 524288);
    } finally {
      try {
        Deno.kill(-child.pid, "SIGKILL");
      } catch {
        // Gone.
      }
      await child.status;
      await child.stdout.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
    }
    assertEquals(child.resizePipe?.("stdout", 64 * 1024), false, "not once reaped");
  },
});

Deno.test("pipe size: what is not a pipe of a live child is left alone", async () => {
  const child = new Deno.Command("sleep", { args: ["1000"], stdout: "null", stderr: "null" })
    .spawn();
  try {
    assertEquals(setPipeSize(child.pid, 1, 1024 * 1024), false, "stdout is /dev/null");
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
  assertEquals(setPipeSize(child.pid, 1, 1024 * 1024), false, "reaped");
});
