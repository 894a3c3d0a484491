/**
 * The commands a host sent to its actor and that are not answered yet, each
 * with its deadline. A deadline runs from when the actor can hear the command:
 * a command sent while its worker waits in the queue (worker_queue.ts) is not
 * one the actor fails to answer, so its time starts once the worker exists.
 */
import { deadline } from "../../deadline.ts";

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

/** The unanswered commands of one host. */
export class PendingRequests {
  readonly #pending = new Map<number, Pending>();
  /** Resolved when the worker exists: starts the deadlines of the commands sent before. */
  #armed = Promise.withResolvers<void>();

  /**
   * Waits for the answer to command `id`. It fails with `late()` if none came
   * `ms` after its deadline started: at once when `armNow`, else at {@link armAll}.
   */
  async wait<T>(id: number, ms: number, late: () => Error, armNow: boolean): Promise<T> {
    const answer = new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    });
    if (!armNow) await Promise.race([this.#armed.promise, answer.catch(() => {})]);
    if (!this.#pending.has(id)) return await answer; // Answered or failed meanwhile.
    return await deadline(answer, ms, {
      onTimeout: () => {
        this.#pending.delete(id);
        return late();
      },
    });
  }

  /** The worker exists: the deadlines of the commands sent before it start now. */
  armAll(): void {
    this.#armed.resolve();
    // Commands sent while a replacing worker waits in the queue wait for the next one.
    this.#armed = Promise.withResolvers<void>();
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
  }
}
