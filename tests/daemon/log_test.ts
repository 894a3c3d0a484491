import { assertEquals, assertMatch } from "../assert.ts";
import { createLogger, daemonLogFile } from "../../lib/daemon/log.ts";

Deno.test("daemon log: key=value lines, quoted where needed", () => {
  const lines: string[] = [];
  const log = createLogger({
    writeSync: (p) => {
      lines.push(new TextDecoder().decode(p));
      return p.length;
    },
  });
  log("warn", "state", { server: "web", reason: "exited with code 1", pid: 7, gone: undefined });
  assertMatch(lines[0]!, /^\S+Z WARN {2}state server=web reason="exited with code 1" pid=7\n$/);
});

Deno.test("daemon log: where a line would pass its size it is renamed to .1, older ones shift, at most `keep` are kept", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/daemon.log`;
    const file = daemonLogFile(path, { maxSize: 100, keep: 2 });
    const line = (i: number) => new TextEncoder().encode(`line ${i} ${"x".repeat(40)}\n`);
    for (let i = 1; i <= 9; i++) file.writeSync(line(i));
    file.close();
    const read = (p: string) =>
      Deno.readTextFileSync(p).split("\n").filter((l) => l).map((l) => Number(l.split(" ")[1]));
    // Lines of 48 bytes: two to a file of at most 100.
    assertEquals(read(`${path}.2`), [5, 6]);
    assertEquals(read(`${path}.1`), [7, 8]);
    assertEquals(read(path), [9]);
    assertEquals(await Deno.stat(`${path}.3`).then(() => true, () => false), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
