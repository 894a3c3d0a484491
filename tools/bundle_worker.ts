/**
 * `deno task bundle`: makes lib/supervisor/worker.bundle.js, the worker's
 * module graph in one file, headed by the list of its modules and their hash
 * (lib/supervisor/worker_module.ts). Run it after changing any module a
 * worker loads; until then workers run from the sources, and a test says so.
 */
import { BUNDLE_MARK, type BundleHeader, sourcesHash } from "../lib/supervisor/worker_module.ts";

const dir = new URL("../lib/supervisor/", import.meta.url);
const entry = new URL("worker.ts", dir);
const out = new URL("worker.bundle.js", dir);

async function run(args: string[]): Promise<string> {
  const res = await new Deno.Command(Deno.execPath(), { args, stderr: "inherit" }).output();
  if (!res.success) throw new Error(`deno ${args.join(" ")} failed`);
  return new TextDecoder().decode(res.stdout);
}

const info = JSON.parse(await run(["info", "--json", entry.pathname])) as {
  modules: { specifier: string }[];
};
const files = info.modules
  .map((m) => m.specifier)
  .filter((s) => s.startsWith("file:"))
  .map((s) => relative(new URL(s), dir))
  .sort();
if (files.some((f) => !f.endsWith(".ts"))) {
  throw new Error(`a module is not local TypeScript: ${files}`);
}

const tmp = await Deno.makeTempFile({ suffix: ".js" });
try {
  await run(["bundle", "--quiet", entry.pathname, "-o", tmp]);
  const body = await Deno.readTextFile(tmp);
  const header: BundleHeader = {
    files,
    hash: sourcesHash(files, (f) => Deno.readFileSync(new URL(f, dir))),
  };
  await Deno.writeTextFile(
    out,
    `${BUNDLE_MARK}${JSON.stringify(header)}\n` +
      "// Made by `deno task bundle` (tools/bundle_worker.ts) from worker.ts: do not edit.\n" +
      body,
  );
  // deno-lint-ignore no-console
  console.log(`${out.pathname}: ${files.length} modules, ${body.length} bytes`);
} finally {
  await Deno.remove(tmp);
}

/** `file` relative to directory URL `base` (both file: URLs). */
function relative(file: URL, base: URL): string {
  const from = base.pathname.split("/").filter(Boolean);
  const to = file.pathname.split("/").filter(Boolean);
  let i = 0;
  while (i < from.length && i < to.length - 1 && from[i] === to[i]) i++;
  return [...Array(from.length - i).fill(".."), ...to.slice(i)].join("/");
}
