/** The messages between the daemon's main thread and a server's actor. */
import type { ServerConfig } from "../config/schema.ts";
import type { ErrorReply } from "./core/answers.ts";
import type { TailSnapshot } from "../logs/capture.ts";
import type { FollowBatch } from "../logs/follow.ts";
import type { Stream } from "../logs/ring.ts";
import type { SpawnRecord } from "../process/records.ts";
import type { Snapshot } from "./core/snapshot.ts";

/** A request the actor answers with a reply. */
export type Command =
  | { readonly kind: "start" }
  | { readonly kind: "stop" }
  | { readonly kind: "restart" }
  | { readonly kind: "shutdown" }
  | { readonly kind: "status" }
  | { readonly kind: "logs"; readonly tail?: number; readonly stream?: Stream };

/** What each command answers when it succeeds. */
export interface Results {
  /** `starting`: it was on its way up already (spawned, and not ready yet). */
  readonly start: "started" | "already_running" | "starting";
  readonly stop: "stopped" | "not_running";
  readonly restart: "restarted";
  readonly shutdown: "stopped";
  readonly status: Snapshot;
  readonly logs: TailSnapshot;
}

/** The name of a command. */
export type CommandKind = Command["kind"];

/** Daemon → actor. */
export type ToActor =
  | {
    readonly type: "init";
    readonly config: ServerConfig;
    readonly logFile: string;
    /** Where spawns are recorded for crash recovery, and by which daemon; none in tests. */
    readonly records?: { readonly dir: string; readonly daemon: string };
    /** The backoff a dead actor was waiting out, to be waited out still. */
    readonly resume?: { readonly restartCount: number; readonly until: number };
    /** Lines for followers are numbered after this (a replaced actor's numbers go on: capture.ts). */
    readonly numberedBefore?: number;
  }
  | { readonly type: "command"; readonly id: number; readonly command: Command }
  | { readonly type: "follow"; readonly on: boolean }
  /** The last `logs` message was handled: the next may come (capture.ts). */
  | { readonly type: "logs_taken" };

/** Actor → daemon. */
export type FromActor =
  | { readonly type: "status"; readonly snapshot: Snapshot }
  | { readonly type: "logs"; readonly batch: FollowBatch }
  /** A recorded run's whole group is gone: what still carries its mark is to be swept. */
  | { readonly type: "ended"; readonly record: SpawnRecord }
  | { readonly type: "reply"; readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly type: "reply"; readonly id: number; readonly ok: false; readonly error: ErrorReply };

/** Either end of a channel: a Worker's `self`, a Worker, or a `MessagePort`. */
export interface Endpoint {
  postMessage(message: unknown): void;
  onmessage: ((ev: MessageEvent) => unknown) | null;
}
