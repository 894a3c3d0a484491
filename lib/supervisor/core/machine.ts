/**
 * One server's life as a pure state machine: `(model, event, now) → { model,
 * effects }`. No I/O, no clock, no timers: time comes in as `now`, and what
 * must happen goes out as effects the actor carries out. This is the only
 * place a server's state changes.
 *
 * Stopping belongs to the machine, as in s6-supervise and systemd: SIGTERM to
 * the group and a `kill` timer at the end of the grace; SIGKILL when it fires;
 * and the next state is chosen only once the whole group is gone, so no
 * grandchild of one run overlaps the next (docs/ARCHITECTURE.md).
 */
import {
  describeExit,
  type Event,
  type ExitInfo,
  KILL_WAIT_MS,
  type MachineConfig,
  type Model,
  type Step,
  unreachable,
} from "./model.ts";
import { onProbed, onProbeTimer, onReadyTimer } from "./readiness.ts";
import { Tx } from "./transaction.ts";

/** Applies one event at time `now`. */
export function step(model: Model, event: Event, now: number, config: MachineConfig): Step {
  const tx = new Tx(model, now, config);
  switch (event.kind) {
    case "start":
    case "restart":
      onStart(tx, event.kind);
      break;
    case "stop":
      onStop(tx);
      break;
    case "shutdown":
      onShutdown(tx);
      break;
    case "spawned":
      onSpawned(tx, event.pid);
      break;
    case "spawn_failed": {
      const s = tx.state;
      if (s.kind !== "starting" || s.pid !== null) break;
      if (event.cause === "port_conflict" && s.auto) {
        // A port taken during an automatic restart waits out a backoff, like any failed start;
        // a start somebody asked for answers PortConflict at once.
        const exit = { code: null, signal: null, at: tx.now };
        tx.applyPolicy(exit, { ranSince: tx.now, failure: event.reason });
      } else tx.fail(event.reason, event.cause);
      break;
    }
    case "exited":
      onExited(tx, event);
      break;
    case "group_gone": {
      const s = tx.state;
      if (s.kind === "stopping" && s.pid === event.pid && s.exit) tx.finishStop(s, s.exit);
      break;
    }
    case "timer":
      switch (event.timer) {
        case "backoff":
          onBackoffTimer(tx);
          break;
        case "kill":
          onKillTimer(tx);
          break;
        case "probe":
          onProbeTimer(tx);
          break;
        case "ready":
          onReadyTimer(tx);
          break;
        default:
          unreachable(event.timer);
      }
      break;
    case "probed":
      onProbed(tx, event.pid, event.result);
      break;
    case "resume":
      // The backoff goes on where the dead actor left it, not cut short.
      if (tx.state.kind !== "stopped") break;
      tx.go(
        { kind: "restarting", attempt: 1, until: event.until },
        "supervisor replaced; restart goes ahead as planned",
        { restartCount: event.restartCount },
      );
      tx.effects.push({ kind: "set_timer", timer: "backoff", at: event.until });
      break;
    default:
      unreachable(event);
  }
  return { model: tx.model, effects: tx.effects };
}

/** A manual start or restart forgets earlier crashes. */
const FRESH: Partial<Model> = { window: [], attempt: 0, lastError: null };

function onStart(tx: Tx, kind: "start" | "restart") {
  const s = tx.state;
  const why = `${kind} requested`;
  switch (s.kind) {
    case "stopped":
    case "failed":
      tx.spawn(why, FRESH);
      break;
    case "restarting":
      tx.effects.push({ kind: "cancel_timer", timer: "backoff" });
      tx.spawn(why, FRESH);
      break;
    case "starting":
    case "running":
      // A start of a live server changes nothing; a restart stops it, then starts it.
      if (kind === "restart" && s.pid !== null) {
        tx.terminate(s.pid, { ranSince: s.since, then: "start", reason: why, patch: FRESH });
      }
      break;
    case "stopping":
      if (s.then !== "exit") tx.go({ ...s, then: "start" }, "", FRESH);
      break;
    default:
      unreachable(s);
  }
}

function onStop(tx: Tx) {
  const s = tx.state;
  switch (s.kind) {
    case "stopped":
      break;
    case "failed":
      tx.go({ kind: "stopped" }, "stop requested");
      break;
    case "restarting":
      tx.effects.push({ kind: "cancel_timer", timer: "backoff" });
      tx.go({ kind: "stopped" }, "stop requested");
      break;
    case "starting":
    case "running":
      if (s.pid === null) tx.go({ kind: "stopped" }, "stop requested");
      else tx.terminate(s.pid, { ranSince: s.since, then: "stop", reason: "stop requested" });
      break;
    case "stopping":
      if (s.then === "start" || s.then === "policy") tx.go({ ...s, then: "stop" }, "");
      break;
    default:
      unreachable(s);
  }
}

function onShutdown(tx: Tx) {
  const s = tx.state;
  switch (s.kind) {
    case "stopped":
    case "failed":
      tx.effects.push({ kind: "exit" });
      break;
    case "restarting":
      tx.effects.push({ kind: "cancel_timer", timer: "backoff" });
      tx.go({ kind: "stopped" }, "daemon shutdown");
      tx.effects.push({ kind: "exit" });
      break;
    case "starting":
    case "running":
      if (s.pid !== null) {
        tx.terminate(s.pid, { ranSince: s.since, then: "exit", reason: "daemon shutdown" });
        break;
      }
      tx.go({ kind: "stopped" }, "daemon shutdown");
      tx.effects.push({ kind: "exit" });
      break;
    case "stopping":
      tx.go({ ...s, then: "exit" }, "");
      break;
    default:
      unreachable(s);
  }
}

function onSpawned(tx: Tx, pid: number) {
  const s = tx.state;
  if (s.kind === "starting" && s.pid === null) {
    tx.spawned(pid);
  } else {
    // Nobody asked for this process any more: it must not live unsupervised.
    tx.effects.push({ kind: "signal_group", pgid: pid, signal: "SIGKILL" });
  }
}

function onExited(tx: Tx, ev: Extract<Event, { kind: "exited" }>) {
  const s = tx.state;
  const exit: ExitInfo = { code: ev.code, signal: ev.signal, at: tx.now };
  if (s.kind === "stopping" && s.pid === ev.pid) {
    if (ev.groupAlive) tx.go({ ...s, exit }, "", { lastExit: exit });
    else tx.finishStop(s, exit);
    return;
  }
  if ((s.kind !== "running" && s.kind !== "starting") || s.pid !== ev.pid) return;
  if (!ev.groupAlive) {
    tx.model = { ...tx.model, lastExit: exit };
    tx.applyPolicy(exit, { ranSince: s.since });
    return;
  }
  // What the leader left in its group is stopped before anything else happens.
  tx.terminate(s.pid, {
    ranSince: s.since,
    then: "policy",
    reason: `${describeExit(exit)}; stopping what it left in its group`,
    patch: { lastExit: exit },
    exit,
  });
}

function onBackoffTimer(tx: Tx) {
  const s = tx.state;
  if (s.kind !== "restarting") return;
  // A timer that fires early (the clock was stepped back) is set again, never dropped.
  if (tx.now < s.until) tx.effects.push({ kind: "set_timer", timer: "backoff", at: s.until });
  else tx.spawn("backoff elapsed", {}, true);
}

function onKillTimer(tx: Tx) {
  const s = tx.state;
  if (s.kind !== "stopping") return;
  if (tx.now < s.deadline) {
    tx.effects.push({ kind: "set_timer", timer: "kill", at: s.deadline });
    return;
  }
  if (s.phase === "term") {
    const deadline = tx.now + KILL_WAIT_MS;
    tx.go({ ...s, phase: "kill", deadline }, "");
    tx.effects.push(
      { kind: "signal_group", pgid: s.pid, signal: "SIGKILL" },
      { kind: "set_timer", timer: "kill", at: deadline },
    );
    return;
  }
  // SIGKILL did not empty the group (uninterruptible sleep): supervision must go on.
  const stuck = `process group ${s.pid} did not exit after SIGKILL`;
  tx.model = { ...tx.model, lastError: stuck };
  tx.finishStop(s, s.exit ?? { code: null, signal: "SIGKILL", at: tx.now });
}
