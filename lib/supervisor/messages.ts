/** The messages between the daemon's main thread and a server's actor. */
import type { ServerConfig } from "../config/schema.ts";
import type { StatusDetail } from "../rpc/types.ts";
import type { LogLine, Stream } from "../logs/ring.ts";

/** A request the actor answers with a {@link Reply}. */
export type Command =
  | { readonly kind: "start" }
  | { readonly kind: "stop" }
  | { readonly kind: "restart" }
  | { readonly kind: "shutdown" }
  | { readonly kind: "status" }
  | { readonly kind: "logs"; readonly tail?: number; readonly stream?: Stream };

/** Daemon → actor. */
export type ToActor =
  | {
    readonly type: "init";
    readonly config: ServerConfig;
    readonly logDir: string;
    /** Where the child's pid record goes; none when undefined (tests). */
    readonly pidDir?: string;
  }
  | { readonly type: "command"; readonly id: number; readonly command: Command }
  | { readonly type: "follow"; readonly on: boolean };

/** An error as it travels back: a JSON-RPC code and a message. */
export interface ErrorReply {
  readonly code: number;
  readonly message: string;
}

/** Actor → daemon. */
export type FromActor =
  | { readonly type: "status"; readonly status: StatusDetail }
  | { readonly type: "logs"; readonly lines: readonly LogLine[] }
  | { readonly type: "reply"; readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly type: "reply"; readonly id: number; readonly ok: false; readonly error: ErrorReply };

/** Either end of a channel: a Worker's `self`, a Worker, or a `MessagePort`. */
export interface Endpoint {
  postMessage(message: unknown): void;
  onmessage: ((ev: MessageEvent) => unknown) | null;
}
