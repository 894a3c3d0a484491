/**
 * Which module a supervisor's worker runs. `worker.bundle.js` is `worker.ts`
 * and every module it imports in one file, made by `deno task bundle`
 * (tools/bundle_worker.ts): a worker loads it with some 7 ms less CPU and
 * holds 0.5 MB less than the modules it comes from (bench/RESULTS.md).
 * Its first line names those modules and a hash of them; the bundle is run
 * only while they still hash the same, so a change not bundled yet runs from
 * its sources, and so does a daemon whose sources cannot be read (a remote
 * import, a compiled binary).
 */

/** The modules a worker may run, beside this one: the entry and its bundle (`deno compile` embeds both). */
export const WORKER_MODULES = { entry: "worker.ts", bundle: "worker.bundle.js" } as const;

/** What the bundle's first line starts with; a JSON {@link BundleHeader} follows. */
export const BUNDLE_MARK = "// xy worker bundle: ";

/** The bundle's first line, after {@link BUNDLE_MARK}. */
export interface BundleHeader {
  /** The bundled modules, relative to the bundle. */
  readonly files: readonly string[];
  /** {@link sourcesHash} of them. */
  readonly hash: string;
}

/** A hash of `files` (paths as given) and their bytes: two 32-bit FNV-1a lanes, to notice a change. */
export function sourcesHash(files: readonly string[], read: (file: string) => Uint8Array): string {
  const enc = new TextEncoder();
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  const feed = (bytes: Uint8Array) => {
    for (let i = 0; i < bytes.length; i++) {
      a = Math.imul(a ^ bytes[i]!, 0x01000193);
      b = Math.imul(b ^ bytes[i]!, 0x01000193) ^ (b >>> 15);
    }
  };
  for (const file of files) {
    feed(enc.encode(`\0${file}\0`));
    feed(read(file));
  }
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
  return hex(a) + hex(b);
}

/**
 * The URL of the module workers run, found in `dir` (this module's own by
 * default): the bundle if its sources still hash as it says, else `worker.ts`.
 */
export function pickWorkerModule(dir: URL = new URL("./", import.meta.url)): string {
  const fallback = new URL(WORKER_MODULES.entry, dir).href;
  const bundle = new URL(WORKER_MODULES.bundle, dir);
  if (bundle.protocol !== "file:") return fallback;
  try {
    const text = Deno.readTextFileSync(bundle);
    const first = text.slice(0, text.indexOf("\n"));
    if (!first.startsWith(BUNDLE_MARK)) return fallback;
    const header = JSON.parse(first.slice(BUNDLE_MARK.length)) as BundleHeader;
    const hash = sourcesHash(header.files, (f) => Deno.readFileSync(new URL(f, bundle)));
    return hash === header.hash ? bundle.href : fallback;
  } catch {
    return fallback;
  }
}

let picked: string | undefined;

/** {@link pickWorkerModule}, once per process. */
export function workerModule(): string {
  return picked ??= pickWorkerModule();
}
