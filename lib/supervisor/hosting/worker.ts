/// <reference lib="deno.worker" />
/**
 * Worker entry: hosts one server's {@link Actor} on the worker's `self`. An
 * uncaught error here ends the worker; the daemon-side host notices, kills
 * the server's process group and starts a fresh worker.
 */
import { timers } from "../../timers.ts";
import { Actor } from "../actor.ts";
import type { Endpoint } from "../messages.ts";

new Actor(self as unknown as Endpoint);
warmUp();

/**
 * Loads now the runtime code Deno loads lazily, on first use, in every
 * isolate: the subprocess API and what timers.ts runs on. Left to the first
 * start, it cost each worker 8 ms of compiling there (a hundred `start --all`
 * at once: 1.05 s, 0.47 s warmed); here it runs while the daemon is still
 * creating the other workers, on a core that would otherwise wait
 * (bench/RESULTS.md). Nothing in a worker calls the global `setTimeout`,
 * which would load Deno's Node timers (timers.ts).
 */
function warmUp() {
  void Deno.Command;
  timers.set(() => {}, 0);
}
