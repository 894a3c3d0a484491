/**
 * Timers that do not load Deno's Node timers. In Deno 2.9 the global
 * `setTimeout` is `node:timers`', loaded on its first call in each isolate:
 * 6–9 ms of CPU and some 1.7 MB in every worker (bench/RESULTS.md, change
 * 15). These run on `AbortSignal.timeout`, which does not load them. A
 * signal's timeout cannot be cancelled, so one wake-up is armed for the
 * earliest timer, and a cleared timer's wake-up is let go when nothing is
 * left waiting. As with `setTimeout`, a pending timer keeps the process alive
 * (a signal with an `abort` listener does); a wake-up let go does not.
 */

/** A timer of a {@link TimerQueue}, to clear it with. */
export interface Timer {
  readonly due: number;
  readonly seq: number;
}

interface Entry extends Timer {
  /** Null once cleared: one timer may clear another due at the same time. */
  fn: (() => void) | null;
}

/** What a {@link TimerQueue} runs on; injectable for tests. */
export interface TimerSource {
  /** Monotonic milliseconds. */
  now(): number;
  /**
   * Calls `fire` once, `ms` from now. What it returns lets the wake-up go: it
   * may still come, but no longer keeps the process alive.
   */
  arm(ms: number, fire: () => void): () => void;
}

const signalSource: TimerSource = {
  now: () => performance.now(),
  arm: (ms, fire) => {
    const signal = AbortSignal.timeout(ms);
    signal.addEventListener("abort", fire, { once: true });
    return () => signal.removeEventListener("abort", fire);
  },
};

/** A wake-up armed: when it is due, and how to let it go. */
interface Wake {
  readonly due: number;
  readonly letGo: () => void;
}

/** Timers in order of when they are due, with as few wake-ups armed as that allows. */
export class TimerQueue {
  readonly #source: TimerSource;
  /** Pending timers, by due time, then by the order they were set. */
  readonly #entries: Entry[] = [];
  /** The wake-ups armed and not yet fired, earliest first. */
  #wakes: Wake[] = [];
  #seq = 0;

  constructor(source: TimerSource = signalSource) {
    this.#source = source;
  }

  /** Pending timers. */
  get size(): number {
    return this.#entries.length;
  }

  /** Wake-ups armed and not yet fired. */
  get armed(): number {
    return this.#wakes.length;
  }

  /** Calls `fn` once, `ms` from now (at once for 0 or less). */
  set(fn: () => void, ms: number): Timer {
    const entry: Entry = { due: this.#source.now() + Math.max(0, ms), seq: ++this.#seq, fn };
    this.#entries.splice(this.#indexOf(entry), 0, entry);
    this.#arm();
    return entry;
  }

  /** Cancels `timer`; nothing when it fired or was cleared already. */
  clear(timer: Timer | undefined): void {
    if (!timer) return;
    const i = this.#indexOf(timer);
    if (this.#entries[i] === timer) this.#entries.splice(i, 1);
    (timer as Entry).fn = null;
    if (this.#entries.length === 0) this.#letGo();
  }

  /** Where `t` is, or would go, in the entries (binary search). */
  #indexOf(t: Timer): number {
    let lo = 0;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const e = this.#entries[mid]!;
      if (e.due < t.due || (e.due === t.due && e.seq < t.seq)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Arms a wake-up for the first timer, unless one comes by then already. */
  #arm() {
    const first = this.#entries[0];
    if (!first) return this.#letGo();
    if (this.#wakes.length && this.#wakes[0]!.due <= first.due) return;
    const wait = first.due - this.#source.now();
    // A signal's clock may run a fraction ahead of ours: at least 1 ms while not due.
    const ms = wait <= 0 ? 0 : Math.max(1, Math.ceil(wait));
    const wake: Wake = { due: first.due, letGo: this.#source.arm(ms, () => this.#wake(wake)) };
    this.#wakes.unshift(wake);
  }

  /** Nothing waits: the wake-ups still armed need not keep the process alive. */
  #letGo() {
    for (const w of this.#wakes) w.letGo();
    this.#wakes = [];
  }

  /** A wake-up fired: runs what is due, in order, and arms the next. */
  #wake(wake: Wake) {
    const at = this.#wakes.indexOf(wake);
    if (at < 0) return; // Let go of already.
    this.#wakes.splice(at, 1);
    const now = this.#source.now();
    let count = 0;
    while (count < this.#entries.length && this.#entries[count]!.due <= now) count++;
    const due = this.#entries.splice(0, count);
    let failed: { error: unknown } | undefined;
    for (const e of due) {
      const fn = e.fn;
      e.fn = null;
      try {
        fn?.();
      } catch (error) {
        failed ??= { error };
      }
    }
    this.#arm();
    // As an uncaught error in a timer: reported, once the others ran.
    if (failed) throw failed.error;
  }
}

/** This isolate's timers. */
export const timers: TimerQueue = new TimerQueue();

/** Resolves `ms` from now, on {@link timers}. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => timers.set(resolve, ms));
}
