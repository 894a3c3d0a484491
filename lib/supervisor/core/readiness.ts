/**
 * The machine's decisions about health (docs/ARCHITECTURE.md, "Health"):
 * when to probe, when a starting server is ready, when it took too long, and
 * when a running one has failed its probes often enough to be restarted.
 * Part of machine.ts's step; pure like it.
 */
import { formatSetting } from "../../config/units.ts";
import { probeOk, type ProbeResult } from "../../health/probe.ts";
import { type Health, READY_PROBE_FIRST_MS, READY_PROBE_MAX_MS } from "./model.ts";
import type { Tx } from "./transaction.ts";

/** A probe is due: of a live run only, one at a time (the next is set when this one is back). */
export function onProbeTimer(tx: Tx) {
  const s = tx.state;
  if ((s.kind === "starting" || s.kind === "running") && s.pid !== null && tx.config.health) {
    tx.effects.push({ kind: "probe", pid: s.pid });
  }
}

/** The start period is over and no probe passed: the start failed, like a crash. */
export function onReadyTimer(tx: Tx) {
  const s = tx.state;
  const health = tx.config.health;
  if (s.kind !== "starting" || s.pid === null || !health) return;
  const end = s.since + health.startPeriodMs;
  if (tx.now < end) {
    tx.effects.push({ kind: "set_timer", timer: "ready", at: end });
    return;
  }
  const last = tx.model.health.last;
  const why = `not ready after ${formatSetting(health.startPeriodMs)}: ` +
    (last ? last.message : "no probe came back");
  tx.terminate(s.pid, { ranSince: s.since, then: "policy", reason: why, failure: why });
}

/**
 * A probe came back. While starting, the first success makes the server
 * `running` and a failure brings the next probe soon; while running,
 * `retries` failures in a row make it unhealthy, and it is restarted as if it
 * had failed.
 */
export function onProbed(tx: Tx, pid: number, result: ProbeResult) {
  const s = tx.state;
  const health = tx.config.health;
  if (!health || (s.kind !== "starting" && s.kind !== "running") || s.pid !== pid) return;
  const last = { ...result, at: tx.now };
  const next = (delay: number) =>
    tx.effects.push({ kind: "set_timer", timer: "probe", at: tx.now + delay });
  if (probeOk(result)) {
    const ok: Health = {
      status: result.status === "needs-auth" ? "needs-auth" : "healthy",
      failures: 0,
      last,
    };
    if (s.kind === "starting") {
      tx.go({ kind: "running", pid, since: s.since }, `ready: ${result.message}`, { health: ok });
      tx.effects.push({ kind: "cancel_timer", timer: "ready" });
    } else tx.model = { ...tx.model, health: ok };
    next(health.intervalMs);
    return;
  }
  const failures = tx.model.health.failures + 1;
  if (s.kind === "starting") {
    tx.model = { ...tx.model, health: { status: "unknown", failures, last } };
    next(Math.min(READY_PROBE_FIRST_MS * 2 ** failures, READY_PROBE_MAX_MS, health.intervalMs));
    return;
  }
  if (failures < health.retries) {
    tx.model = { ...tx.model, health: { ...tx.model.health, failures, last } };
    next(health.intervalMs);
    return;
  }
  const why = `unhealthy: ${failures} probes failed in a row: ${result.message}`;
  tx.terminate(pid, {
    ranSince: s.since,
    then: "policy",
    reason: why,
    failure: why,
    patch: { health: { status: "unhealthy", failures, last } },
  });
}
