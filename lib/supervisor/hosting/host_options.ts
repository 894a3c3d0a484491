/** What a {@link ServerHost} (host.ts) is made with, and how long its requests may take. */
import type { BridgeSecrets } from "../../bridge/bridge.ts";
import type { FollowBatch } from "../../logs/follow.ts";
import type { Logger } from "../../logger.ts";
import type { Recording, SpawnRecord } from "../../process/records.ts";
import type { ActorPorts } from "../actor.ts";
import type { Snapshot } from "../core/snapshot.ts";

/** Where a host runs its actor. */
export type HostMode = "worker" | "inline";

/** Options of {@link ServerHost}. */
export interface HostOptions {
  readonly logDir: string;
  /** Where spawns are recorded for crash recovery, and by which daemon. */
  readonly records?: Recording;
  /** A stdio server's endpoint secrets, from the daemon (bridge.ts). */
  readonly bridge?: BridgeSecrets;
  /** Where reaping after a dead worker is logged. */
  readonly log?: Logger;
  readonly mode?: HostMode;
  /** Ports for an inline actor (tests). */
  readonly ports?: ActorPorts;
  /** The module a worker runs: the supervisor's own by default (tests pass one they can crash). */
  readonly workerModule?: URL;
  /** Called with every snapshot the actor publishes. */
  readonly onStatus?: (snapshot: Snapshot) => void;
  /** Called with every batch of log lines while somebody follows; the next comes once it returned. */
  readonly onLogs?: (name: string, batch: FollowBatch) => void;
  /**
   * Called when a recorded run's group is gone, to sweep what left the group;
   * without it the record is simply removed.
   */
  readonly onEnded?: (record: SpawnRecord) => void;
  /** Called when the worker died and was replaced (`replaced`), or could not be made. */
  readonly onWorkerError?: (message: string, replaced: boolean) => void;
  /** How long a status or logs request may take, and what a lifecycle one may take beyond its stop (tests shorten them). */
  readonly timeouts?: { readonly queryMs: number; readonly marginMs: number };
}

/** How long a status or log request may take. */
export const QUERY_TIMEOUT_MS = 10_000;
/** What a lifecycle command may take beyond its stop: a port check, a spawn. */
export const LIFECYCLE_MARGIN_MS = 15_000;
