/**
 * The commands a host sent to its actor and that are not answered yet, each
 * with its deadline. A deadline runs from when the actor can hear the command:
 * a command sent while its worker waits in the queue (worker_queue.ts) is not
 * one the actor fails to answer, so its time starts once the worker exists.
 */
import { type Timer, timers } from "../../timers.ts";

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

/** The unanswered commands of one host. */
export class PendingRequests {
  readonly #pending = new Map<number, Pending>();
  /** The deadlines still to start, once the worker exists. */
  #unarmed: (() => void)[] = [];

  /**
   * Waits for the answer to command `id`. It fails with `late()` if none came
   * `ms` after its deadline started: at once when `armNow`, else at {@link armAll}.
   */
  wait<T>(id: number, ms: number, late: () => Error, armNow: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let timer: Timer | undefined;
      const arm = () => {
        if (!this.#pending.has(id)) return; // Answered or failed already.
        timer = timers.set(() => {
          this.#pending.delete(id);
          reject(late());
        }, ms);
      };
      const settle = <A>(fn: (a: A) => void) => (a: A) => {
        timers.clear(timer);
        fn(a);
      };
      this.#pending.set(id, {
        resolve: settle(resolve as (v: unknown) => void),
        reject: settle(reject),
      });
      if (armNow) arm();
      else this.#unarmed.push(arm);
    });
  }

  /** The worker exists: the deadlines of the commands sent before it start now. */
  armAll(): void {
    for (const arm of this.#unarmed.splice(0)) arm();
  }

  /** Settles command `id` with its answer; an unknown or late id is ignored. */
  answer(id: number, answer: { ok: true; value: unknown } | { ok: false; error: Error }): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    if (answer.ok) p.resolve(answer.value);
    else p.reject(answer.error);
  }

  /** Fails every command still waiting with `error`. */
  rejectAll(error: Error): void {
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
    this.#unarmed = [];
  }
}
