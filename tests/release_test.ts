/**
 * `deno compile` cannot run here (it downloads its runtime), so the release
 * build is checked on its text: every module a `new Worker(...)` loads is
 * embedded (`--include`) in every target's binary, the binaries carry the
 * daemon's V8 flags, and the release workflow builds every target.
 */
import { assert, assertEquals } from "./assert.ts";
import { DAEMON_V8_FLAGS } from "../lib/cli/connect.ts";

const ROOT = new URL("../", import.meta.url);

/** Repo-relative paths of the modules `new Worker(new URL("…", import.meta.url))` loads in `dir`. */
async function workerModules(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const e of Deno.readDir(new URL(dir, ROOT))) {
    const rel = `${dir}${e.name}`;
    if (e.isDirectory) found.push(...await workerModules(`${rel}/`));
    else if (e.name.endsWith(".ts")) {
      found.push(...workersIn(rel, await Deno.readTextFile(new URL(rel, ROOT))));
    }
  }
  return found.sort();
}

function workersIn(file: string, text: string): string[] {
  const resolve = (spec: string) =>
    new URL(spec, new URL(file, ROOT)).pathname.slice(ROOT.pathname.length);
  const direct = [
    ...text.matchAll(/new Worker\(\s*new URL\(\s*"([^"]+)"\s*,\s*import\.meta\.url\s*\)/g),
  ].map((m) => resolve(m[1]!));
  // A module named once, `const X = new URL("…", import.meta.url)`, and given to new Worker.
  const named = new Map(
    [...text.matchAll(/const (\w+) = new URL\(\s*"([^"]+)"\s*,\s*import\.meta\.url\s*\)/g)]
      .map((m) => [m[1]!, resolve(m[2]!)]),
  );
  const byName = [...text.matchAll(/new Worker\(([^\n]*)/g)].flatMap((m) =>
    [...named.keys()].filter((k) => new RegExp(`\\b${k}\\b`).test(m[1]!)).map((k) => named.get(k)!)
  );
  // A Worker made some other way could not be checked: it must not exist.
  const all = [...text.matchAll(/new Worker\(/g)].length;
  if (all !== direct.length + byName.length) {
    throw new Error(
      `${file}: a new Worker(...) of a module not named by new URL("…", import.meta.url)`,
    );
  }
  return [...direct, ...byName];
}

const tasks: Record<string, string> = JSON.parse(
  await Deno.readTextFile(new URL("deno.json", ROOT)),
).tasks;
const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
];

Deno.test("release: the worker scan finds the supervisor's worker (so the checks below check something)", async () => {
  const found = await workerModules("lib/");
  assertEquals(found, ["lib/supervisor/hosting/worker.ts"]);
  assertEquals(workersIn("lib/x/a.ts", `new Worker(new URL("../y/w.ts", import.meta.url).href)`), [
    "lib/y/w.ts",
  ]);
});

Deno.test("release: every target's compile task embeds every worker module and the daemon's V8 flags", async () => {
  const workers = [
    ...await workerModules("lib/"),
    ...workersIn("main.ts", await Deno.readTextFile(new URL("main.ts", ROOT))),
  ];
  for (const target of TARGETS) {
    const task = tasks[`compile:${target}`];
    assert(task, `deno.json has no compile:${target} task`);
    const words = task.split(/\s+/);
    assertEquals(words.slice(0, 2), ["deno", "compile"]);
    const includes = words.flatMap((w, i) => (w === "--include" ? [words[i + 1]!] : []));
    for (const w of workers) {
      assert(includes.includes(w), `compile:${target} does not --include ${w}`);
    }
    assert(words.includes(DAEMON_V8_FLAGS), `compile:${target} lacks ${DAEMON_V8_FLAGS}`);
    assertEquals(words[words.indexOf("--target") + 1], target);
    assertEquals(words.at(-1), "main.ts");
  }
  assertEquals(
    tasks.compile,
    TARGETS.map((t) => `deno task compile:${t}`).join(" && "),
    "deno task compile builds every target",
  );
});

Deno.test("release: the workflow builds every target with its compile task, after the checks and dry-run publish", async () => {
  const yml = await Deno.readTextFile(new URL(".github/workflows/release.yml", ROOT));
  for (const t of TARGETS) assert(yml.includes(`- ${t}\n`), `release.yml does not build ${t}`);
  assert(yml.includes("run: deno task compile:${{ matrix.target }}"));
  assert(yml.includes("run: deno task ok"));
  assert(yml.includes("run: deno publish --dry-run"));
});
