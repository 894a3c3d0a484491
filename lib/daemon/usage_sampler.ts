/**
 * Sampling what servers cost only while someone asks (SPEC §13): a `list` or
 * `status` after a quiet spell takes two samples some 200 ms apart; those
 * that follow compare a new sample with the one before (or, within half a
 * second, share it). No timer runs in between, so an idle daemon's CPU does
 * not change.
 */
import { systemClock } from "../clock.ts";
import type { ServerProcs, Usage, UsageSample } from "../process/usage.ts";
import { usageOf, UsageScanner } from "../process/usage.ts";

/** Two samples further apart than this are no pair: the first answer after it samples twice. */
const QUIET_MS = 5_000;
/** How far apart the two samples of a first answer are. */
const PAIR_MS = 200;
/**
 * Answers closer together than this share their samples: a scan of every
 * process is a few ms of the daemon's thread (bench/RESULTS.md), and a burst
 * of calls (a script, `start --wait` polling) needs it once.
 */
const FRESH_MS = 500;

/** Samples for the daemon's answers. */
export class UsageSampler {
  readonly #scanner: { sample(): Promise<UsageSample> };
  #pair: [UsageSample, UsageSample] | null = null;
  #pending: Promise<[UsageSample, UsageSample]> | null = null;

  constructor(scanner: { sample(): Promise<UsageSample> } = new UsageScanner()) {
    this.#scanner = scanner;
  }

  /** A function from a server's processes to their cost, over the latest pair of samples. */
  async costs(): Promise<(who: ServerProcs) => Usage> {
    const [before, after] = await this.#samples();
    return (who) => usageOf(before, after, who);
  }

  #samples(): Promise<[UsageSample, UsageSample]> {
    this.#pending ??= (async (): Promise<[UsageSample, UsageSample]> => {
      const now = performance.now();
      const last = this.#pair?.[1];
      if (this.#pair && last && now - last.at < FRESH_MS) return this.#pair;
      let before = last;
      if (!before || now - before.at > QUIET_MS) {
        before = await this.#scanner.sample();
        await new Promise<void>((r) => systemClock.setTimeout(r, PAIR_MS));
      }
      const after = await this.#scanner.sample();
      this.#pair = [before, after];
      return this.#pair;
    })().finally(() => this.#pending = null);
    return this.#pending;
  }
}
