/**
 * Timers that do not load Deno's Node timers. In Deno 2.9 the global
 * `setTimeout` is `node:timers`', loaded on its first call in each isolate:
 * 6–9 ms of CPU and some 1.7 MB in every worker (bench/RESULTS.md, "What each
 * change bought", 11). These run on `AbortSignal.timeout`, which does not load them.
 *
 * A signal's timeout cannot be cancelled, so the queue arms one wake-up for
 * its earliest timer and reuses it for every timer due after it. As with
 * `setTimeout`, a pending timer keeps the process alive (a signal with an
 * `abort` listener does). When nothing is left waiting, the wake-ups are let
 * go — their listeners removed, so they keep nothing alive — and one still to
 * come is taken up again by the next timer due after it: a watchdog cleared
 * and set again on every write makes one signal, not one a write.
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

/** A wake-up armed on a {@link TimerSource}. */
export interface WakeHandle {
  /** Lets it go: it may still come, but calls nothing and keeps the process alive no more. */
  release(): void;
  /** Takes it up again; false when it came meanwhile (it is spent). */
  renew(): boolean;
}

/** What a {@link TimerQueue} runs on; injectable for tests. */
export interface TimerSource {
  /** Monotonic milliseconds. */
  now(): number;
  /** Calls `fire` once, `ms` from now, unless released by then. */
  arm(ms: number, fire: () => void): WakeHandle;
}

const signalSource: TimerSource = {
  now: () => performance.now(),
  arm: (ms, fire) => {
    const signal = AbortSignal.timeout(ms);
    signal.addEventListener("abort", fire, { once: true });
    return {
      release: () => signal.removeEventListener("abort", fire),
      renew: () => {
        if (signal.aborted) return false;
        signal.addEventListener("abort", fire, { once: true });
        return true;
      },
    };
  },
};

/** A wake-up not yet come: when it is due, and whether it is held (will call the queue). */
interface Wake {
  readonly due: number;
  readonly handle: WakeHandle;
  held: boolean;
}

/** Timers in order of when they are due, with as few wake-ups armed as that allows. */
export class TimerQueue {
  readonly #source: TimerSource;
  /** Pending timers, by due time, then by the order they were set. */
  readonly #entries: Entry[] = [];
  /** The wake-ups not yet come, held or let go, earliest first. */
  #wakes: Wake[] = [];
  #seq = 0;

  constructor(source: TimerSource = signalSource) {
    this.#source = source;
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

  /**
   * Makes sure a wake-up comes by the first timer's time: one held already,
   * one let go and taken up again, or a new one.
   */
  #arm() {
    const first = this.#entries[0];
    if (!first) return this.#letGo();
    while (this.#wakes.length && this.#wakes[0]!.due <= first.due) {
      const w = this.#wakes[0]!;
      if (w.held) return;
      if (w.handle.renew()) {
        w.held = true;
        return;
      }
      this.#wakes.shift(); // It came while let go, unheard: spent.
    }
    const wait = first.due - this.#source.now();
    // A signal's clock may run a fraction ahead of ours: at least 1 ms while not due.
    const ms = wait <= 0 ? 0 : Math.max(1, Math.ceil(wait));
    const wake: Wake = {
      due: first.due,
      held: true,
      handle: this.#source.arm(ms, () => this.#wake(wake)),
    };
    this.#wakes.unshift(wake);
  }

  /** Nothing waits: no wake-up need keep the process alive. */
  #letGo() {
    for (const w of this.#wakes) {
      if (!w.held) continue;
      w.handle.release();
      w.held = false;
    }
  }

  /** A wake-up fired: runs what is due, in order, and arms the next. */
  #wake(wake: Wake) {
    // Only a held wake-up calls: it is still in the list (only spent ones leave otherwise).
    this.#wakes.splice(this.#wakes.indexOf(wake), 1);
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
