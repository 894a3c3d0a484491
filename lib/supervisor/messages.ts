/** The messages between the daemon's main thread and a server's actor. */
import type { BridgeSecrets } from "../bridge/bridge.ts";
import type { ServerConfig } from "../config/schema.ts";
import type { RequestError, RequestResults } from "./core/model.ts";
import type { LogTail } from "../logs/capture.ts";
import type { FollowBatch } from "../logs/follow.ts";
import type { Stream } from "../logs/ring.ts";
import type { Recording, SpawnRecord } from "../process/records.ts";
import type { Snapshot } from "./core/snapshot.ts";

/**
 * A request the actor answers with a reply. A start or restart says whether
 * the server's dependencies are up (true when not said); when they are not,
 * it waits, `blocked`, for a `deps_up` message.
 */
export type Command =
  | { readonly kind: "start"; readonly depsUp?: boolean }
  | { readonly kind: "stop" }
  | { readonly kind: "restart"; readonly depsUp?: boolean }
  | { readonly kind: "shutdown" }
  | { readonly kind: "status" }
  | { readonly kind: "logs"; readonly tail?: number; readonly stream?: Stream };

/** What each command answers when it succeeds: the machine's answers, a snapshot, a log tail. */
export interface Results extends RequestResults {
  readonly status: Snapshot;
  readonly logs: LogTail;
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
    readonly records?: Recording;
    /** The backoff a dead actor was waiting out, to be waited out still. */
    readonly resume?: { readonly restartCount: number; readonly until: number };
    /** Lines for followers are numbered after this (a replaced actor's numbers go on: capture.ts). */
    readonly numberedBefore?: number;
    /** A stdio server's endpoint secrets (bridge.ts). */
    readonly bridge?: BridgeSecrets;
  }
  | { readonly type: "command"; readonly id: number; readonly command: Command }
  /** The dependencies a blocked server waits for are all up. */
  | { readonly type: "deps_up" }
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
  | {
    readonly type: "reply";
    readonly id: number;
    readonly ok: false;
    readonly error: RequestError;
  };

/** Either end of a channel: a Worker's `self`, a Worker, or a `MessagePort`. */
export interface Endpoint {
  postMessage(message: unknown): void;
  onmessage: ((ev: MessageEvent) => unknown) | null;
}
