import { assertEquals } from "../../assert.ts";
import { answer } from "../../../lib/supervisor/core/answers.ts";
import { initialModel, type Model, type State } from "../../../lib/supervisor/core/model.ts";

const at = (state: State): Model => ({ ...initialModel(), state });
const stopping: State = {
  kind: "stopping",
  pid: 5,
  since: 0,
  ranSince: 0,
  phase: "term",
  deadline: 1,
  then: "start",
  exit: null,
  failure: null,
};

Deno.test("answers: a start is answered once its process exists, or with why it could not start", () => {
  const rows: [State, unknown][] = [
    [{ kind: "starting", pid: null, since: 0 }, undefined],
    [{ kind: "starting", pid: 7, since: 0 }, { done: true }],
    [{ kind: "running", pid: 7, since: 0 }, { done: true }],
    [stopping, undefined],
    [{ kind: "restarting", attempt: 1, until: 5 }, undefined],
    [{ kind: "failed", reason: "port 1 is in use", cause: "port_conflict" }, {
      error: { failure: "PortConflict", message: "port 1 is in use" },
    }],
    [{ kind: "failed", reason: "not found", cause: "spawn_failed" }, {
      error: { failure: "SpawnFailed", message: "not found" },
    }],
    [{ kind: "failed", reason: "3 restarts", cause: "crash_loop" }, {
      error: { failure: "SpawnFailed", message: "3 restarts" },
    }],
    [{ kind: "stopped" }, {
      error: { failure: "NotRunning", message: "stopped before it was up" },
    }],
  ];
  for (const [state, expected] of rows) {
    assertEquals(answer("start", at(state)), expected, state.kind);
    assertEquals(answer("restart", at(state)), expected, state.kind);
  }
});

Deno.test("answers: a stop is answered once no stop is under way", () => {
  assertEquals(answer("stop", at(stopping)), undefined);
  assertEquals(answer("stop", at({ kind: "stopped" })), { done: true });
  // A start that came in during the stop: the stop did happen.
  assertEquals(answer("stop", at({ kind: "starting", pid: null, since: 0 })), { done: true });
});
