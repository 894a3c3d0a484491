/// <reference lib="deno.worker" />
/**
 * Worker entry: hosts one server's {@link Actor} on the worker's `self`. An
 * uncaught error here ends the worker; the daemon-side host notices, kills
 * the server's process group and starts a fresh worker.
 */
import { Actor } from "./actor.ts";
import type { Endpoint } from "./messages.ts";

new Actor(self as unknown as Endpoint);
