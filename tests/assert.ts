/** The few assertions the tests need (@std/assert lives on JSR, which is not reachable here). */
import { deepStrictEqual } from "node:assert";

/** Deep equality, with a readable diff on failure. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  deepStrictEqual(actual, expected, msg);
}

/** `value` matches `re`. */
export function assertMatch(value: string, re: RegExp, msg?: string): void {
  if (!re.test(value)) throw new Error(msg ?? `expected ${JSON.stringify(value)} to match ${re}`);
}

/** `cond` holds. */
export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}

/** `fn` throws (or rejects) an error whose message matches `re`. */
export async function assertRejects(fn: () => unknown, re: RegExp): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    assertMatch(err.message, re);
    return err;
  }
  throw new Error(`expected an error matching ${re}`);
}
