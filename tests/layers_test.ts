/**
 * The layers of docs/ARCHITECTURE.md, checked on the source: each folder of
 * lib/ may import only the folders listed for it (and the shared files at the
 * top of lib/), so the data flows one way and nothing below knows the wire.
 */
import { assertEquals } from "./assert.ts";

const LIB = new URL("../lib/", import.meta.url).pathname;

/** Folder → the folders it may import. The files directly in lib/ are shared by all. */
const ALLOWED: Record<string, readonly string[]> = {
  config: [],
  process: [],
  logs: [],
  rpc: [],
  protocol: [],
  health: ["config"],
  bridge: ["config", "logs", "health"],
  "supervisor/core": ["config", "process", "health", "bridge", "protocol"],
  supervisor: ["supervisor/core", "config", "process", "logs", "health", "bridge", "protocol"],
  "supervisor/hosting": [
    "supervisor",
    "supervisor/core",
    "config",
    "process",
    "logs",
    "bridge",
    "protocol",
  ],
  daemon: [
    "config",
    "process",
    "logs",
    "health",
    "bridge",
    "supervisor",
    "supervisor/core",
    "supervisor/hosting",
    "protocol",
    "rpc",
  ],
  service: [],
  cli: ["config", "process", "daemon", "protocol", "rpc", "service"],
};

/** Folders whose subfolders are layers of their own. */
const SPLIT = new Set(["supervisor"]);

/** Every relative import (static or dynamic) of a file, resolved against lib/. */
function importsOf(file: string, text: string): string[] {
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*)"(\.[^"]+)"/g)].map((m) => m[1]!);
  return specs.map((s) => new URL(s, `file://${file}`).pathname);
}

/** The lib/ folder a path is in, or "" for the shared files at the top. */
function folderOf(path: string): string {
  const parts = path.slice(LIB.length).split("/").slice(0, -1);
  if (parts.length === 0) return "";
  return SPLIT.has(parts[0]!) && parts.length > 1 ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

async function* files(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) yield* files(`${dir}${e.name}/`);
    else if (e.name.endsWith(".ts")) yield `${dir}${e.name}`;
  }
}

Deno.test("layers: every import in lib/ points down the layers", async () => {
  const wrong: string[] = [];
  for await (const file of files(LIB)) {
    const from = folderOf(file);
    const allowed = from === "" ? [] : ALLOWED[from];
    if (allowed === undefined) {
      wrong.push(`${file}: lib/${from}/ has no place in the layer table`);
      continue;
    }
    for (const target of importsOf(file, await Deno.readTextFile(file))) {
      const to = folderOf(target);
      if (to === "" || to === from || allowed.includes(to)) continue;
      wrong.push(`${file.slice(LIB.length)} imports ${target.slice(LIB.length)}`);
    }
  }
  assertEquals(wrong, []);
});

Deno.test("layers: the check itself sees a wrong import", () => {
  const file = `${LIB}rpc/server.ts`;
  const bad = importsOf(
    file,
    `import { x } from "../daemon/registry.ts";\nawait import("../supervisor/host.ts");`,
  );
  assertEquals(bad.map(folderOf), ["daemon", "supervisor"]);
  assertEquals(ALLOWED.rpc!.includes("daemon"), false);
});
