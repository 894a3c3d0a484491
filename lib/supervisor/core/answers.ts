/**
 * When a lifecycle request is answered, and with what: a pure function of the
 * machine's model after each step (machine.ts settles every pending request
 * with it). A request the state answers at once (a start of a running
 * server) is answered by its handler in the machine's table instead.
 */
import type { Failure } from "../../protocol/failures.ts";
import type { FailureCause, Model, Reply, RequestKind } from "./model.ts";

/** What a failed server answers a start with. */
const START_FAILURE: Record<FailureCause, Failure> = {
  spawn_failed: "SpawnFailed",
  port_conflict: "PortConflict",
  crash_loop: "SpawnFailed",
};

/** The answer to a request of `kind` now that the model is `model`; undefined while it cannot be told. */
export function answerOf(kind: RequestKind, model: Model): Reply | undefined {
  const s = model.state;
  switch (kind) {
    case "stop":
      return s.kind === "stopping" ? undefined : { ok: true, result: "stopped" };
    case "shutdown":
      return model.closed ? { ok: true, result: "stopped" } : undefined;
    case "start":
    case "restart":
      break;
  }
  const done = { ok: true, result: kind === "start" ? "started" : "restarted" } as const;
  // A start or restart is answered once the process exists, or with why it could not start.
  switch (s.kind) {
    case "running":
      return done;
    case "starting":
      return s.pid === null ? undefined : done;
    case "blocked":
      return { ok: true, result: "blocked" };
    case "failed":
      return { ok: false, error: { failure: START_FAILURE[s.cause], message: s.reason } };
    case "stopped":
      return { ok: false, error: { failure: "NotRunning", message: "stopped before it was up" } };
    case "stopping":
    case "restarting":
      return undefined;
  }
}
