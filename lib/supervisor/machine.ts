/**
 * One server's life as a pure state machine: `(model, event, now) → { model,
 * effects }`. No I/O, no clock, no timers: time comes in as `now`, and what
 * must happen goes out as effects the actor carries out. This is the only
 * place a server's state changes.
 */
import type { RestartConfig } from "../config/schema.ts";
import { backoffDelay } from "./backoff.ts";
import { admitRestart } from "./retry_window.ts";

/** What a stopping server does once its process group is gone. */
export type AfterStop = "stop" | "start" | "exit";

/** The server's state (SPEC §4). `starting` has no pid while the spawn is under way. */
export type State =
  | { readonly kind: "stopped" }
  | { readonly kind: "starting"; readonly pid: number | null; readonly since: number }
  | { readonly kind: "running"; readonly pid: number; readonly since: number }
  | {
    readonly kind: "stopping";
    readonly pid: number;
    readonly since: number;
    readonly then: AfterStop;
  }
  | { readonly kind: "restarting"; readonly attempt: number; readonly until: number }
  | { readonly kind: "failed"; readonly reason: string };

/** The name of a state. */
export type StateKind = State["kind"];

/** How a process ended. `signal` is set when a signal killed it. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: string | null;
  readonly at: number;
}

/** One entry of the transition history. */
export interface Transition {
  readonly from: StateKind;
  readonly to: StateKind;
  readonly at: number;
  readonly reason: string;
}

/** The state plus what the machine remembers across runs. */
export interface Model {
  readonly state: State;
  /** Automatic restart times inside the 60 s window. */
  readonly window: readonly number[];
  /** Consecutive automatic restarts, for the backoff. */
  readonly attempt: number;
  /** Automatic restarts since the daemon started. */
  readonly restartCount: number;
  readonly lastExit: ExitInfo | null;
  readonly lastError: string | null;
  readonly transitions: readonly Transition[];
}

/** Everything that can happen to a server. */
export type Event =
  | { readonly kind: "start" }
  | { readonly kind: "restart" }
  | { readonly kind: "stop" }
  | { readonly kind: "shutdown" }
  | { readonly kind: "spawned"; readonly pid: number }
  | { readonly kind: "spawn_failed"; readonly reason: string }
  | { readonly kind: "exited"; readonly code: number | null; readonly signal: string | null }
  | { readonly kind: "timer" };

/** What the actor must do. */
export type Effect =
  | { readonly kind: "spawn" }
  | { readonly kind: "terminate"; readonly pid: number; readonly graceMs: number }
  | { readonly kind: "set_timer"; readonly at: number }
  | { readonly kind: "cancel_timer" }
  | { readonly kind: "exit" };

/** The settings the machine decides with. */
export interface MachineConfig {
  readonly restart: RestartConfig;
  readonly graceMs: number;
}

/** A step's outcome. */
export interface Step {
  readonly model: Model;
  readonly effects: readonly Effect[];
}

/** How many transitions a model keeps. */
export const HISTORY = 20;

/** A server that has never run. */
export function initialModel(): Model {
  return {
    state: { kind: "stopped" },
    window: [],
    attempt: 0,
    restartCount: 0,
    lastExit: null,
    lastError: null,
    transitions: [],
  };
}

/** The pid of the live process, if the state has one. */
export function pidOf(state: State): number | null {
  switch (state.kind) {
    case "starting":
    case "running":
    case "stopping":
      return state.pid;
    case "stopped":
    case "restarting":
    case "failed":
      return null;
    default:
      return unreachable(state);
  }
}

/** Applies one event at time `now`. */
export function step(model: Model, event: Event, now: number, config: MachineConfig): Step {
  const s = model.state;
  const effects: Effect[] = [];
  let next: Model = model;

  const go = (state: State, reason: string, patch: Partial<Model> = {}) => {
    const transitions = state.kind === s.kind && reason === "" ? next.transitions : [
      ...next.transitions,
      { from: s.kind, to: state.kind, at: now, reason },
    ].slice(-HISTORY);
    next = { ...next, ...patch, state, transitions };
  };
  const spawn = (reason: string, patch: Partial<Model> = {}) => {
    go({ kind: "starting", pid: null, since: now }, reason, patch);
    effects.push({ kind: "spawn" });
  };
  const terminate = (
    pid: number,
    since: number,
    then: AfterStop,
    reason: string,
    patch: Partial<Model> = {},
  ) => {
    go({ kind: "stopping", pid, since, then }, reason, patch);
    effects.push({ kind: "terminate", pid, graceMs: config.graceMs });
  };
  /** A manual start or restart forgets earlier crashes. */
  const fresh: Partial<Model> = { window: [], attempt: 0, lastError: null };

  switch (event.kind) {
    case "start":
      switch (s.kind) {
        case "stopped":
        case "failed":
          spawn("start requested", fresh);
          break;
        case "restarting":
          effects.push({ kind: "cancel_timer" });
          spawn("start requested", fresh);
          break;
        case "stopping":
          if (s.then === "stop") go({ ...s, then: "start" }, "", fresh);
          break;
        case "starting":
        case "running":
          break;
        default:
          unreachable(s);
      }
      break;

    case "restart":
      switch (s.kind) {
        case "stopped":
        case "failed":
          spawn("restart requested", fresh);
          break;
        case "restarting":
          effects.push({ kind: "cancel_timer" });
          spawn("restart requested", fresh);
          break;
        case "starting":
        case "running":
          if (s.pid === null) break;
          terminate(s.pid, now, "start", "restart requested", fresh);
          break;
        case "stopping":
          if (s.then !== "exit") go({ ...s, then: "start" }, "", fresh);
          break;
        default:
          unreachable(s);
      }
      break;

    case "stop":
      switch (s.kind) {
        case "stopped":
          break;
        case "failed":
          go({ kind: "stopped" }, "stop requested");
          break;
        case "restarting":
          effects.push({ kind: "cancel_timer" });
          go({ kind: "stopped" }, "stop requested");
          break;
        case "starting":
        case "running":
          if (s.pid === null) go({ kind: "stopped" }, "stop requested");
          else terminate(s.pid, now, "stop", "stop requested");
          break;
        case "stopping":
          if (s.then === "start") go({ ...s, then: "stop" }, "");
          break;
        default:
          unreachable(s);
      }
      break;

    case "shutdown":
      switch (s.kind) {
        case "stopped":
        case "failed":
          effects.push({ kind: "exit" });
          break;
        case "restarting":
          effects.push({ kind: "cancel_timer" }, { kind: "exit" });
          go({ kind: "stopped" }, "daemon shutdown");
          break;
        case "starting":
        case "running":
          if (s.pid === null) {
            go({ kind: "stopped" }, "daemon shutdown");
            effects.push({ kind: "exit" });
          } else terminate(s.pid, now, "exit", "daemon shutdown");
          break;
        case "stopping":
          go({ ...s, then: "exit" }, "");
          break;
        default:
          unreachable(s);
      }
      break;

    case "spawned":
      if (s.kind === "starting" && s.pid === null) {
        go({ kind: "running", pid: event.pid, since: now }, `spawned pid ${event.pid}`);
      } else {
        // Nobody asked for this process any more: do not let it live unsupervised.
        effects.push({ kind: "terminate", pid: event.pid, graceMs: config.graceMs });
      }
      break;

    case "spawn_failed":
      if (s.kind === "starting") {
        go({ kind: "failed", reason: event.reason }, event.reason, { lastError: event.reason });
      }
      break;

    case "exited": {
      const lastExit: ExitInfo = { code: event.code, signal: event.signal, at: now };
      const how = describeExit(lastExit);
      if (s.kind === "stopping") {
        if (s.then === "start") spawn(`${how}; starting again`, { lastExit });
        else {
          go({ kind: "stopped" }, how, { lastExit });
          if (s.then === "exit") effects.push({ kind: "exit" });
        }
        break;
      }
      if (s.kind !== "running" && s.kind !== "starting") break;
      const since = s.since;
      const policy = config.restart.policy;
      const clean = event.code === 0 && event.signal === null;
      if (policy === "never" || (policy === "on-failure" && clean)) {
        go({ kind: "stopped" }, `${how} (policy ${policy})`, { lastExit });
        break;
      }
      const attempt = now - since >= config.restart.resetAfterMs ? 0 : next.attempt;
      const admitted = admitRestart(next.window, { now, max: config.restart.maxRetriesPerMinute });
      if (!admitted.allowed) {
        const reason = `${how}; ${admitted.window.length} restarts within 60s ` +
          `(max-retries-per-minute ${config.restart.maxRetriesPerMinute})`;
        go({ kind: "failed", reason }, reason, {
          lastExit,
          window: admitted.window,
          attempt,
          lastError: reason,
        });
        break;
      }
      const delay = backoffDelay(attempt, {
        initialMs: config.restart.backoffInitialMs,
        maxMs: config.restart.backoffMaxMs,
      });
      const until = now + delay;
      go({ kind: "restarting", attempt: attempt + 1, until }, `${how}; restarting in ${delay}ms`, {
        lastExit,
        window: admitted.window,
        attempt: attempt + 1,
        restartCount: next.restartCount + 1,
        lastError: how,
      });
      effects.push({ kind: "set_timer", at: until });
      break;
    }

    case "timer":
      if (s.kind === "restarting" && now >= s.until) spawn("backoff elapsed");
      break;

    default:
      unreachable(event);
  }
  return { model: next, effects };
}

/** "exited with code 1", "killed by SIGKILL". */
export function describeExit(exit: { code: number | null; signal: string | null }): string {
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}

function unreachable(x: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(x)}`);
}
