import { assertEquals } from "../../assert.ts";
import { answerOf } from "../../../lib/supervisor/core/answers.ts";
import { initialModel, type Model, type State } from "../../../lib/supervisor/core/model.ts";

const at = (state: State, extra: Partial<Model> = {}): Model => ({
  ...initialModel(),
  state,
  ...extra,
});
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

Deno.test("answers: a start is answered once its process exists, blocked while it waits, or with why it could not start", () => {
  const rows: [State, "done" | "blocked" | undefined | { failure: string; message: string }][] = [
    [{ kind: "starting", pid: null, since: 0 }, undefined],
    [{ kind: "starting", pid: 7, since: 0 }, "done"],
    [{ kind: "running", pid: 7, since: 0 }, "done"],
    [{ kind: "blocked" }, "blocked"],
    [stopping, undefined],
    [{ kind: "restarting", attempt: 1, until: 5 }, undefined],
    [{ kind: "failed", reason: "port 1 is in use", cause: "port_conflict" }, {
      failure: "PortConflict",
      message: "port 1 is in use",
    }],
    [{ kind: "failed", reason: "not found", cause: "spawn_failed" }, {
      failure: "SpawnFailed",
      message: "not found",
    }],
    [{ kind: "failed", reason: "3 restarts", cause: "crash_loop" }, {
      failure: "SpawnFailed",
      message: "3 restarts",
    }],
    [{ kind: "stopped" }, { failure: "NotRunning", message: "stopped before it was up" }],
  ];
  for (const [state, expected] of rows) {
    for (const kind of ["start", "restart"] as const) {
      const want = expected === undefined
        ? undefined
        : expected === "done"
        ? { ok: true, result: kind === "start" ? "started" : "restarted" }
        : expected === "blocked"
        ? { ok: true, result: "blocked" }
        : { ok: false, error: expected };
      assertEquals(answerOf(kind, at(state)) as unknown, want, `${kind} in ${state.kind}`);
    }
  }
});

Deno.test("answers: a stop is answered once no stop is under way; a shutdown once the supervisor closed", () => {
  assertEquals(answerOf("stop", at(stopping)), undefined);
  assertEquals(answerOf("stop", at({ kind: "stopped" })), { ok: true, result: "stopped" });
  // A start that came in during the stop: the stop did happen.
  assertEquals(answerOf("stop", at({ kind: "starting", pid: null, since: 0 })), {
    ok: true,
    result: "stopped",
  });
  assertEquals(answerOf("shutdown", at(stopping)), undefined);
  assertEquals(answerOf("shutdown", at({ kind: "stopped" }, { closed: true })), {
    ok: true,
    result: "stopped",
  });
});
