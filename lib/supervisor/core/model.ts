/**
 * The vocabulary of one server's state machine: its states, what it
 * remembers, the events it takes and the effects it asks for. Pure data; the
 * transitions are in machine.ts (docs/ARCHITECTURE.md, "The machine").
 */
import type { RestartConfig, ServerConfig } from "../../config/schema.ts";
import type { ProbeResult } from "../../health/probe.ts";
import type { ExitStatus, GroupSignal } from "../../process/spawner.ts";
import type { Failure } from "../../protocol/failures.ts";

/**
 * What a stopping server does once its process group is gone: `start` again,
 * wait for its dependencies (`block`), `exit` (its supervisor is shutting
 * down), let the restart `policy` decide, or `fail` (a per-session server
 * whose children exited too often).
 */
export type AfterStop = "stop" | "start" | "block" | "exit" | "policy" | "fail";

/**
 * A stop's phase: a stdio server's stdin was closed and it has a moment to
 * go by itself (`stdin`), SIGTERM was sent and the grace runs (`term`), or
 * SIGKILL was sent (`kill`).
 */
export type StopPhase = "stdin" | "term" | "kill";

/** Why a server is `failed`. */
export type FailureCause = "spawn_failed" | "port_conflict" | "crash_loop";

/** What the probes say of a server with health checks. */
export type HealthStatus = "unknown" | "healthy" | "unhealthy" | "needs-auth";

/** The health of the current run: its status, failures in a row, and the last probe. */
export interface Health {
  readonly status: HealthStatus;
  /** Consecutive failed probes (while starting: probes so far without success). */
  readonly failures: number;
  readonly last: (ProbeResult & { readonly at: number }) | null;
}

/** How a process ended (`signal` set when a signal killed it), and when. */
export interface ExitInfo extends ExitStatus {
  readonly at: number;
}

/**
 * The server's state. `blocked`: asked to start, and waiting for its
 * dependencies, with no process. `starting` has no pid while the spawn is
 * under way.
 */
export type State =
  | { readonly kind: "stopped" }
  | { readonly kind: "blocked" }
  | {
    readonly kind: "starting";
    readonly pid: number | null;
    readonly since: number;
    /** Set when the restart policy started it (after a backoff), not a request. */
    readonly auto?: true;
  }
  | { readonly kind: "running"; readonly pid: number; readonly since: number }
  | {
    readonly kind: "stopping";
    readonly pid: number;
    /** When the stop began. */
    readonly since: number;
    /** When the run being stopped began (the policy's reset-after counts from it). */
    readonly ranSince: number;
    readonly phase: StopPhase;
    /** When the phase ends: SIGKILL after `term`, giving up on the group after `kill`. */
    readonly deadline: number;
    readonly then: AfterStop;
    /** The leader's exit, once it happened. */
    readonly exit: ExitInfo | null;
    /** Why the run is being ended as a failure (not ready in time, unhealthy), if it is. */
    readonly failure: string | null;
  }
  | { readonly kind: "restarting"; readonly attempt: number; readonly until: number }
  | { readonly kind: "failed"; readonly reason: string; readonly cause: FailureCause };

/** The name of a state. */
export type StateKind = State["kind"];

/** One entry of the transition history. */
export interface Transition {
  readonly from: StateKind;
  readonly to: StateKind;
  readonly at: number;
  readonly reason: string;
}

/** A lifecycle request the machine has not answered yet. */
export interface PendingRequest {
  readonly id: number;
  readonly kind: RequestKind;
}

/** The state plus what the machine remembers across runs. */
export interface Model {
  readonly state: State;
  /** Requests to answer once the state says how (answers.ts). */
  readonly pending: readonly PendingRequest[];
  /** Shut down: its supervisor is done, and starts nothing again. */
  readonly closed: boolean;
  /** Automatic restart times inside the 60 s window. */
  readonly window: readonly number[];
  /** Consecutive automatic restarts, for the backoff. */
  readonly attempt: number;
  /** Automatic restarts since the daemon started. */
  readonly restartCount: number;
  readonly lastExit: ExitInfo | null;
  readonly lastError: string | null;
  readonly transitions: readonly Transition[];
  readonly health: Health;
}

/**
 * The machine's timers; each is set and cancelled by name: the backoff, the
 * end of a stop's grace, the next probe, and the end of the start period.
 */
export type TimerName = "backoff" | "kill" | "probe" | "ready";

/** A request a lifecycle event may carry, to be answered by a `reply` effect. */
export type RequestKind = "start" | "restart" | "stop" | "shutdown";

/** What a request is answered with when it succeeds. */
export interface RequestResults {
  /** `starting`: on its way up already; `blocked`: waiting for its dependencies. */
  readonly start: "started" | "already_running" | "starting" | "blocked";
  readonly restart: "restarted" | "blocked";
  readonly stop: "stopped" | "not_running";
  readonly shutdown: "stopped";
}

/** Why a request failed: a failure's name (protocol/failures.ts) and what happened. */
export interface RequestError {
  readonly failure: Failure;
  readonly message: string;
}

/** A request's answer. */
export type Reply =
  | { readonly ok: true; readonly result: RequestResults[RequestKind] }
  | { readonly ok: false; readonly error: RequestError };

/**
 * Everything that can happen to a server. A start or restart says whether the
 * server's dependencies are up (`depsUp`, true when not said): when they are
 * not, it waits, `blocked`, for `deps_up`. `request` is the id of the request
 * that asked, to be answered.
 */
export type Event =
  | { readonly kind: "start"; readonly depsUp?: boolean; readonly request?: number }
  | { readonly kind: "restart"; readonly depsUp?: boolean; readonly request?: number }
  | { readonly kind: "stop"; readonly request?: number }
  | { readonly kind: "shutdown"; readonly request?: number }
  /** The dependencies a blocked server waits for are all up. */
  | { readonly kind: "deps_up" }
  | { readonly kind: "spawned"; readonly pid: number }
  | { readonly kind: "spawn_failed"; readonly reason: string; readonly cause: FailureCause }
  /** The group's leader exited; `groupAlive` when other members of its group still live. */
  | {
    readonly kind: "exited";
    readonly pid: number;
    readonly code: number | null;
    readonly signal: string | null;
    readonly groupAlive: boolean;
  }
  /** The last member of the group is gone and its output is collected. */
  | { readonly kind: "group_gone"; readonly pid: number }
  | { readonly kind: "timer"; readonly timer: TimerName }
  /** A fresh actor takes over a server whose last one died while it waited out a backoff. */
  | { readonly kind: "resume"; readonly restartCount: number; readonly until: number }
  /** A probe of process `pid` came back. */
  | { readonly kind: "probed"; readonly pid: number; readonly result: ProbeResult }
  /** Of run `pid` of a per-session stdio server, the child of session `session` exited on its own. */
  | {
    readonly kind: "session_exited";
    readonly pid: number;
    readonly session: string;
    readonly code: number | null;
    readonly signal: string | null;
  };

/** What the actor must do. */
export type Effect =
  | { readonly kind: "spawn" }
  | { readonly kind: "signal_group"; readonly pgid: number; readonly signal: GroupSignal }
  | { readonly kind: "set_timer"; readonly timer: TimerName; readonly at: number }
  | { readonly kind: "cancel_timer"; readonly timer: TimerName }
  /** Probe process `pid`'s server once, off the mailbox; the result comes back as `probed`. */
  | { readonly kind: "probe"; readonly pid: number }
  /** Close the child's stdin: how a stdio server is asked to stop (MCP's stdio transport). */
  | { readonly kind: "close_stdin" }
  /** Start a child again for session `session` of a per-session stdio server. */
  | { readonly kind: "restart_session"; readonly session: string }
  /** Answer request `request`. */
  | { readonly kind: "reply"; readonly request: number; readonly reply: Reply }
  | { readonly kind: "exit" };

/** The settings the machine decides with. `health` only when the server has checks. */
export interface MachineConfig {
  readonly restart: RestartConfig;
  readonly graceMs: number;
  /** A stdio server: a stop first closes its stdin and waits this long before SIGTERM. */
  readonly stdinFirstMs?: number;
  readonly health?: {
    readonly intervalMs: number;
    readonly retries: number;
    readonly startPeriodMs: number;
  };
}

/** A step's outcome. */
export interface Step {
  readonly model: Model;
  readonly effects: readonly Effect[];
}

/** How many transitions a model keeps. */
export const HISTORY = 20;

/** Probes while starting come quickly: the first after this, then doubling up to {@link READY_PROBE_MAX_MS}. */
export const READY_PROBE_FIRST_MS = 50;
/** The longest wait between probes while a server is not ready yet. */
export const READY_PROBE_MAX_MS = 500;

/** The health of a run nothing has probed yet. */
export const UNKNOWN_HEALTH: Health = { status: "unknown", failures: 0, last: null };

/** How long to wait for a group after SIGKILL before giving up on it (a process in uninterruptible sleep). */
export const KILL_WAIT_MS = 2_000;

/** How long a stdio server has to go by itself once its stdin is closed, before SIGTERM. */
export const STDIN_WAIT_MS = 1_000;

/** A server that has never run. */
export function initialModel(): Model {
  return {
    state: { kind: "stopped" },
    pending: [],
    closed: false,
    window: [],
    attempt: 0,
    restartCount: 0,
    lastExit: null,
    lastError: null,
    transitions: [],
    health: UNKNOWN_HEALTH,
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
    case "blocked":
    case "restarting":
    case "failed":
      return null;
    default:
      return unreachable(state);
  }
}

/** "exited with code 1", "killed by SIGKILL". */
export function describeExit(exit: { code: number | null; signal: string | null }): string {
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}

/** The exhaustiveness check of a `switch` over a union. */
export function unreachable(x: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(x)}`);
}

/** What the machine decides with, from a server's config. */
export function machineConfig(c: ServerConfig): MachineConfig {
  return {
    restart: c.restart,
    graceMs: c.stop.graceMs,
    ...(c.transport === "stdio" ? { stdinFirstMs: Math.min(STDIN_WAIT_MS, c.stop.graceMs) } : {}),
    ...(c.health
      ? {
        health: {
          intervalMs: c.health.intervalMs,
          retries: c.health.retries,
          startPeriodMs: c.health.startPeriodMs,
        },
      }
      : {}),
  };
}
