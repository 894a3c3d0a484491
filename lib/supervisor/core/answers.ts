/**
 * When a lifecycle command is answered, and with what: a pure function of the
 * machine's model after each step. The actor keeps a command pending until
 * its answer is known.
 */
import type { Failure } from "../../protocol/failures.ts";
import type { FailureCause, Model } from "./model.ts";

/** A failed command as it travels back. */
export interface ErrorReply {
  readonly failure: Failure;
  readonly message: string;
}

/** A command that waits for the machine. */
export type Waiting = "start" | "restart" | "stop";

/** What a failed server answers a start with. */
const START_FAILURE: Record<FailureCause, Failure> = {
  spawn_failed: "SpawnFailed",
  port_conflict: "PortConflict",
  crash_loop: "SpawnFailed",
};

/** The answer to `command` now that the model is `model`: done, failed, or (undefined) not yet. */
export function answer(
  command: Waiting,
  model: Model,
): { readonly done: true } | { readonly error: ErrorReply } | undefined {
  const s = model.state;
  if (command === "stop") return s.kind === "stopping" ? undefined : { done: true };
  // A start or restart is answered once the process exists, or with why it could not start.
  switch (s.kind) {
    case "running":
      return { done: true };
    case "starting":
      return s.pid === null ? undefined : { done: true };
    case "failed":
      return { error: { failure: START_FAILURE[s.cause], message: s.reason } };
    case "stopped":
      return { error: { failure: "NotRunning", message: "stopped before it was up" } };
    case "stopping":
    case "restarting":
      return undefined;
  }
}
