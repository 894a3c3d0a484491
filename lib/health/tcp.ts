/** The `tcp` probe: the port accepts a connection. */
import { deadline } from "../deadline.ts";
import { describeFailure, type ProbeResult } from "./probe.ts";

/** Connects to `<hostname>:<port>` within `timeoutMs`, and closes the connection at once. */
export async function probeTcp(
  port: number,
  timeoutMs: number,
  hostname = "127.0.0.1",
): Promise<ProbeResult> {
  const t0 = performance.now();
  const latency = () => Math.round(performance.now() - t0);
  try {
    const conn = await deadline(Deno.connect({ hostname, port }), timeoutMs, {
      onTimeout: () => new DOMException("timed out", "TimeoutError"),
      late: (c) => c.close(),
    });
    conn.close();
    return { status: "healthy", message: "port accepts connections", latencyMs: latency() };
  } catch (e) {
    return { status: "failed", message: describeFailure(e, timeoutMs), latencyMs: latency() };
  }
}
