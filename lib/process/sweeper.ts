/**
 * Stopping what a run left behind once its process group is gone: processes
 * that left the group with `setsid` (a double-forked helper, a detached
 * browser) still carry the run's mark (markers.ts), and would otherwise keep
 * running — and keep their port — after `xy stop`, a crash or a reload. A
 * run's record (records.ts) stays until it is swept: a daemon killed before
 * that leaves it to the next daemon's reap.
 *
 * Sweeps are batched: one scan of the processes for every run that ended
 * within {@link SweepOptions.delayMs}, and no more than one scan per
 * {@link SweepOptions.minIntervalMs}, so a server crashing in a loop or a
 * hundred servers stopping at once cost a scan, not one each.
 */
import { type Timer, timers } from "../timers.ts";
import type { Logger } from "../logger.ts";
import { reapRecords } from "./reap.ts";
import { readRecords, type SpawnRecord } from "./records.ts";
import { groupAlive } from "./group.ts";

/** Options of {@link Sweeper}. */
export interface SweepOptions {
  /** The records directory. */
  readonly dir: string;
  /** This daemon's id: only its own records are swept. */
  readonly daemon: string;
  readonly log: Logger;
  /** How long to gather ended runs before a sweep (default 200 ms). */
  readonly delayMs?: number;
  /** The shortest time between the starts of two sweeps (default 1 s). */
  readonly minIntervalMs?: number;
}

/** Sweeps ended runs for one daemon. */
export class Sweeper {
  readonly #opts: SweepOptions;
  #ended: SpawnRecord[] = [];
  #timer: Timer | undefined;
  #running: Promise<void> | null = null;
  #lastStart = -Infinity;
  #closed = false;

  constructor(opts: SweepOptions) {
    this.#opts = opts;
  }

  /** The group of `record`'s run is gone: sweep what carries its mark, then drop the record. */
  ended(record: SpawnRecord): void {
    if (this.#closed) return;
    this.#ended.push(record);
    this.#schedule();
  }

  #schedule() {
    if (this.#timer !== undefined || this.#running) return;
    const delay = Math.max(
      this.#opts.delayMs ?? 200,
      this.#lastStart + (this.#opts.minIntervalMs ?? 1_000) - performance.now(),
    );
    this.#timer = timers.set(() => {
      this.#timer = undefined;
      this.#running = this.#sweep(this.#ended.splice(0)).finally(() => {
        this.#running = null;
        if (this.#ended.length && !this.#closed) this.#schedule();
      });
    }, delay);
  }

  async #sweep(records: SpawnRecord[]) {
    this.#lastStart = performance.now();
    // A group that is somehow alive again is its actor's to stop; it is swept at the end.
    const gone = [];
    for (const r of records) if (!(r.pid && await groupAlive(r.pid))) gone.push(r);
    await reapRecords(this.#opts.dir, gone, {
      log: this.#opts.log,
      why: "that outlived its run (it left the run's process group)",
    }).catch(() => {});
  }

  /**
   * The daemon is going: no run of it is current any more. Waits for the sweep
   * in flight, then stops whatever any of its records still finds alive —
   * runs just ended, groups that never emptied — and removes those records.
   */
  async finish(): Promise<void> {
    this.#closed = true;
    timers.clear(this.#timer);
    this.#timer = undefined;
    await this.#running;
    const mine = (await readRecords(this.#opts.dir).catch(() => []))
      .filter((r) => r.daemon === this.#opts.daemon);
    await reapRecords(this.#opts.dir, mine, {
      log: this.#opts.log,
      why: "that outlived its server",
    }).catch(() => {});
  }
}
