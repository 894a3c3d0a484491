/** The real prober's own part: what a refusal at 127.0.0.1 says about a server on [::1] alone. */
import { assertEquals } from "../assert.ts";
import type { HealthConfig, HealthKind } from "../../lib/config/schema.ts";
import { ONLY_V6, realProber } from "../../lib/health/probe.ts";

const health = (kind: HealthKind): HealthConfig => ({
  kind,
  ...(kind === "tcp" ? {} : { path: "/mcp" }),
  intervalMs: 1_000,
  timeoutMs: 2_000,
  retries: 3,
  startPeriodMs: 10_000,
});

/** Whether this machine has an IPv6 loopback to listen on. */
function hasIpv6Loopback(): boolean {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "probe: a server listening on [::1] only is refused at 127.0.0.1, and the failure says why",
  // Skipped where there is no ::1 (a container without IPv6): no server can listen there.
  ignore: !hasIpv6Loopback(),
}, async () => {
  const server = Deno.serve(
    { hostname: "::1", port: 0, onListen: () => {} },
    () => new Response("ok"),
  );
  try {
    for (const kind of ["tcp", "http", "mcp"] as const) {
      const r = await realProber(health(kind), server.addr.port);
      assertEquals([r.status, r.message], ["failed", `connection refused: ${ONLY_V6}`], kind);
    }
  } finally {
    await server.shutdown();
  }
  // Nothing on either: a plain refusal.
  const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = free.addr.port;
  free.close();
  assertEquals((await realProber(health("tcp"), port)).message, "connection refused");
});
