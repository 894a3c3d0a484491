/**
 * Makes the daemon's workers one per turn of its event loop.
 *
 * `new Worker` holds the thread that calls it until the new worker's runtime
 * exists: some 20 ms on a 2-core machine. A hundred servers' workers made in
 * one go left the daemon answering nobody, neither its clients nor the
 * workers already made, for three seconds of its boot (bench/RESULTS.md).
 * Queued, every creation is its own task, and whatever waits runs between two.
 */
import { timers } from "../timers.ts";

/** One creation, queued. */
interface Job {
  readonly run: () => void;
}

/** Runs queued creations in order, one per event-loop turn. */
export class WorkerQueue {
  readonly #jobs = new Set<Job>();
  #scheduled = false;

  /**
   * Queues `create`, which makes one worker and must not throw (it runs
   * from a timer). Returns the function that takes it out of the queue if it
   * has not run yet.
   */
  add(create: () => void): () => void {
    const job: Job = { run: create };
    this.#jobs.add(job);
    this.#schedule();
    return () => {
      this.#jobs.delete(job);
    };
  }

  /** How many creations wait. */
  get size(): number {
    return this.#jobs.size;
  }

  #schedule() {
    if (this.#scheduled || this.#jobs.size === 0) return;
    this.#scheduled = true;
    timers.set(() => this.#next(), 0);
  }

  #next() {
    this.#scheduled = false;
    const job = this.#jobs.values().next().value;
    if (!job) return;
    this.#jobs.delete(job);
    try {
      job.run();
    } finally {
      this.#schedule();
    }
  }
}

/** The daemon's queue: every server host in worker hosting makes its worker through it. */
export const workerQueue: WorkerQueue = new WorkerQueue();
