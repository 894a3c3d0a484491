import { assert, assertEquals } from "../assert.ts";
import { BUNDLE_MARK, pickWorkerModule, sourcesHash } from "../../lib/supervisor/worker_module.ts";

const SUPERVISOR = new URL("../../lib/supervisor/", import.meta.url);

Deno.test("worker module: the committed bundle matches its sources (else run `deno task bundle`)", () => {
  assertEquals(
    pickWorkerModule(SUPERVISOR),
    new URL("worker.bundle.js", SUPERVISOR).href,
    "lib/supervisor/worker.bundle.js is older than a module it bundles: run `deno task bundle`",
  );
});

Deno.test("worker module: a bundle whose sources changed, or that has no header, is not run", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const base = new URL(`file://${dir}/`);
    await Deno.writeTextFile(`${dir}/a.ts`, "export const a = 1;\n");
    const files = ["a.ts"];
    const hash = sourcesHash(files, (f) => Deno.readFileSync(new URL(f, base)));
    await Deno.writeTextFile(
      `${dir}/worker.bundle.js`,
      `${BUNDLE_MARK}${JSON.stringify({ files, hash })}\nconst a = 1;\n`,
    );
    assertEquals(pickWorkerModule(base), new URL("worker.bundle.js", base).href);
    await Deno.writeTextFile(`${dir}/a.ts`, "export const a = 2;\n");
    assertEquals(pickWorkerModule(base), new URL("worker.ts", base).href, "changed source");
    await Deno.remove(`${dir}/a.ts`);
    assertEquals(pickWorkerModule(base), new URL("worker.ts", base).href, "missing source");
    await Deno.writeTextFile(`${dir}/worker.bundle.js`, "const a = 1;\n");
    assertEquals(pickWorkerModule(base), new URL("worker.ts", base).href, "no header");
    await Deno.remove(`${dir}/worker.bundle.js`);
    assertEquals(pickWorkerModule(base), new URL("worker.ts", base).href, "no bundle");
    assertEquals(
      pickWorkerModule(new URL("https://example.com/xy/")),
      "https://example.com/xy/worker.ts",
      "a remote daemon runs the sources",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("worker module: the hash changes with any byte or name of the sources", () => {
  const data: Record<string, Uint8Array> = { "x.ts": new Uint8Array([1, 2, 3]) };
  const read = (f: string) => data[f]!;
  const h = sourcesHash(["x.ts"], read);
  assertEquals(h.length, 16);
  data["x.ts"] = new Uint8Array([1, 2, 4]);
  assert(sourcesHash(["x.ts"], read) !== h);
  data["y.ts"] = new Uint8Array([1, 2, 3]);
  assert(sourcesHash(["y.ts"], read) !== h, "a renamed file");
});
