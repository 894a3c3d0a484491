/**
 * Makes the daemon's workers one per turn of its event loop.
 *
 * `new Worker` holds the thread that calls it until the new worker's runtime
 * exists: some 20 ms on a 2-core machine. A hundred servers' workers made in
 * one go left the daemon answering nobody, neither its clients nor the
 * workers already made, for three seconds of its boot (bench/RESULTS.md).
 * Queued, every creation is its own task, and whatever waits runs between two.
 * Inline actors are made through it too, a few to a task: each one's first
 * start runs on the daemon's thread, and a hundred made in one task held a
 * `list` 250–330 ms (one to a task: 2.4 ms a turn, and the boot of 100 over
 * its target).
 */
import { timers } from "../../timers.ts";

/** The most creations one task makes… */
const PER_TURN = 10;
/** …while it has taken less than this. A worker takes some 20 ms: one a task. */
const TURN_MS = 2;

/** One creation, queued. */
interface Job {
  readonly run: () => void;
}

/** Runs queued creations in order, one or a few per event-loop turn. */
export class WorkerQueue {
  readonly #jobs = new Set<Job>();
  #scheduled = false;

  /**
   * Queues `create`, which makes one worker (or inline actor) and must not throw (it runs
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

  #schedule() {
    if (this.#scheduled || this.#jobs.size === 0) return;
    this.#scheduled = true;
    timers.set(() => this.#next(), 0);
  }

  #next() {
    this.#scheduled = false;
    const start = performance.now();
    try {
      for (let n = 0; n < PER_TURN && performance.now() - start < TURN_MS; n++) {
        const job = this.#jobs.values().next().value;
        if (!job) return;
        this.#jobs.delete(job);
        job.run();
      }
    } finally {
      this.#schedule();
    }
  }
}

/** The daemon's queue: every server host makes its worker, or inline actor, through it. */
export const workerQueue: WorkerQueue = new WorkerQueue();
