/// <reference lib="deno.worker" />
/**
 * Worker entry: loads a config directory and posts the result back. The KDL
 * parser allocates some 100 KB per file, and a heap that grew once stays
 * grown: parsing in a worker that ends right after keeps the daemon small
 * (load_isolated.ts).
 */
import { loadConfigDir } from "./load.ts";
import type { LoadRequest, LoadResponse } from "./load_isolated.ts";

self.onmessage = async (ev: MessageEvent<LoadRequest>) => {
  let response: LoadResponse;
  try {
    const r = await loadConfigDir(ev.data.dir, { keepPorts: new Set(ev.data.keepPorts) });
    response = {
      ok: true,
      configs: [...r.configs],
      invalid: r.invalid.map((f) => ({
        name: f.name,
        file: f.file,
        errors: f.errors.map((e) => ({
          file: e.file,
          line: e.line,
          column: e.column,
          detail: e.detail,
        })),
      })),
    };
  } catch (e) {
    response = { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
  self.postMessage(response);
};
