/**
 * A fair read-write lock for async code. `exclusive` sections (boot, reload,
 * shutdown) run alone; `shared` sections (lifecycle requests, each on its own
 * servers) run together, but never beside an exclusive one. Waiters are served
 * in the order they came, so a stream of requests cannot starve a reload, and
 * a request that comes after a reload sees the reload's result.
 */
export class RwLock {
  #shared = 0;
  #exclusive = false;
  readonly #queue: { readonly exclusive: boolean; readonly go: () => void }[] = [];

  /** Runs `fn` beside other shared sections, after every exclusive one queued before it. */
  shared<T>(fn: () => Promise<T>): Promise<T> {
    return this.#run(false, fn);
  }

  /** Runs `fn` alone, after everything queued before it. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.#run(true, fn);
  }

  async #run<T>(exclusive: boolean, fn: () => Promise<T>): Promise<T> {
    await new Promise<void>((go) => {
      this.#queue.push({ exclusive, go });
      this.#pump();
    });
    try {
      return await fn();
    } finally {
      if (exclusive) this.#exclusive = false;
      else this.#shared--;
      this.#pump();
    }
  }

  #pump() {
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      if (this.#exclusive || (head.exclusive && this.#shared > 0)) return;
      if (head.exclusive) this.#exclusive = true;
      else this.#shared++;
      this.#queue.shift();
      head.go();
    }
  }
}
