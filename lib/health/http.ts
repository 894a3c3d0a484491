/** The `http` probe: a GET answered 2xx or 3xx. */
import { describeFailure, type ProbeResult } from "./probe.ts";

/**
 * GETs `url` within `timeoutMs` on a connection of its own (no pooled socket
 * outlives the probe) and reads nothing of the body.
 */
export async function probeHttp(url: string, timeoutMs: number): Promise<ProbeResult> {
  const t0 = performance.now();
  const latency = () => Math.round(performance.now() - t0);
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  try {
    const res = await fetch(url, {
      client,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    const message = `HTTP ${res.status}`;
    const ok = res.status >= 200 && res.status < 400;
    return { status: ok ? "healthy" : "failed", message, latencyMs: latency() };
  } catch (e) {
    return { status: "failed", message: describeFailure(e, timeoutMs), latencyMs: latency() };
  } finally {
    client.close();
  }
}
