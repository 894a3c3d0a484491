/** A client of the daemon: the RPC client typed by the daemon's methods and notifications. */
import type { Methods, Notification } from "../protocol/types.ts";
import { RpcClient } from "../rpc/client.ts";

/** A connection to the daemon, its calls typed by the protocol (docs/PROTOCOL.md). */
export type DaemonClient = RpcClient<Methods, Notification>;

/** Connects to the daemon on `socket`; throws DaemonUnreachableError when none listens. */
export function connectDaemon(socket: string): Promise<DaemonClient> {
  return RpcClient.connect<Methods, Notification>(socket);
}
