/** The port guard: is something already accepting connections on a port, and who. */
import { deadline } from "../deadline.ts";

/** Answers "is this port taken, and by whom?" with a reason a person can act on; null when free. */
export type PortGuard = (port: number) => Promise<string | null>;

/** The real port guard: a TCP connect to 127.0.0.1, then a look for the owner. */
export const tcpPortGuard: PortGuard = async (port) => {
  if (!(await portInUse(port))) return null;
  return await portTaken(port);
};

/** "port 8421 is already in use by pid 123 (node)": a taken port, and who holds it where that is known. */
export async function portTaken(port: number): Promise<string> {
  const owner = await portOwner(port);
  return `port ${port} is already in use${owner ? ` by ${owner}` : ""}`;
}

class ConnectTimeout extends Error {}

/**
 * True when something accepts TCP connections on `127.0.0.1:<port>`. A
 * connect that hangs means something is there but not answering: taken. One
 * that succeeds after the timeout is closed, not leaked. A port in the
 * ephemeral range can be connected to with nothing listening, when the
 * kernel picks that same port as the connection's own (a TCP self-connect):
 * that is no listener.
 */
export async function portInUse(port: number, timeoutMs = 1_000): Promise<boolean> {
  try {
    const conn = await deadline(Deno.connect({ hostname: "127.0.0.1", port }), timeoutMs, {
      onTimeout: () => new ConnectTimeout(),
      late: (c) => c.close(),
    });
    const self = isSelfConnect(conn.localAddr, conn.remoteAddr);
    conn.close();
    return !self;
  } catch (e) {
    return e instanceof ConnectTimeout;
  }
}

/** True when a connection's two ends are one address and port: it reached itself, not a listener. */
export function isSelfConnect(local: Deno.NetAddr, remote: Deno.NetAddr): boolean {
  return local.hostname === remote.hostname && local.port === remote.port;
}

/** Best effort (Linux): "pid 123 (node)" for the process listening on `port`. */
export async function portOwner(port: number): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return undefined;
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = await Deno.readTextFile(table);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      const local = f[1];
      // state 0A = LISTEN
      if (!local || f[3] !== "0A") continue;
      if (parseInt(local.slice(local.lastIndexOf(":") + 1), 16) === port && f[9]) inodes.add(f[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  try {
    for await (const proc of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(proc.name)) continue;
      try {
        for await (const fd of Deno.readDir(`/proc/${proc.name}/fd`)) {
          const target = await Deno.readLink(`/proc/${proc.name}/fd/${fd.name}`).catch(() => "");
          const m = /^socket:\[(\d+)\]$/.exec(target);
          if (m && inodes.has(m[1]!)) {
            const comm = (await Deno.readTextFile(`/proc/${proc.name}/comm`).catch(() => ""))
              .trim();
            return `pid ${proc.name}${comm ? ` (${comm})` : ""}`;
          }
        }
      } catch {
        // Not ours to read, or gone: keep looking.
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}
