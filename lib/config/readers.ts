/**
 * Typed readers of KDL nodes, on top of @bgotink/kdl's `dessert` decoder. A
 * block is read by a spec (`{ key: reader }`), so each key is named once: the
 * spec gives its reader, its path in messages (`restart.policy`) and the list
 * of known keys a misspelt one is matched against. Errors go to an explicit
 * {@link Reporter} and are collected, not thrown, so one pass reports
 * everything wrong with a file.
 */
import { type Document, type Entry, getLocation, type Node } from "@bgotink/kdl";
import {
  type DeserializationContext,
  deserialize,
  KdlDeserializeError,
} from "@bgotink/kdl/dessert";
import { ConfigError } from "./config_error.ts";
import { explain } from "./kdl_errors.ts";
import { closest } from "./suggest.ts";
import { isValidName } from "./schema.ts";
import { MAX_DURATION_MS, parseDuration, parseSize } from "./units.ts";

/** Something an error can point at. */
export type Place = Node | Entry | Document | undefined;

/** Collects the errors of one file, each with its line and column. */
export class Reporter {
  readonly errors: ConfigError[] = [];
  constructor(readonly file: string) {}

  /** Where `place` starts: [line, column], or [1, 1] when unknown. */
  at(place: Place): [number, number] {
    const loc = place ? getLocation(place) : undefined;
    return loc ? [loc.start.line, loc.start.column] : [1, 1];
  }

  /** Records `message` at `place`. */
  report(place: Place, message: string): void {
    this.reportAt(this.at(place), message);
  }

  /** Records `message` at a [line, column]. */
  reportAt([line, column]: readonly [number, number], message: string): void {
    this.errors.push(new ConfigError(this.file, line, column, message));
  }
}

/** A value that failed one check: thrown by a reader, reported at `place`. */
export class Problem extends Error {
  constructor(readonly place: Node | Entry | undefined, message: string) {
    super(message);
  }
}

/** What a reader gets: the decoder's context on the node, the node, its key path, the reporter. */
export interface Field {
  readonly c: DeserializationContext;
  readonly node: Node;
  readonly path: string;
  readonly reporter: Reporter;
}

/** Reads one node into a value; throws {@link Problem} or lets the decoder throw. */
export type Reader<T> = (f: Field) => T;

/** The readers of a block's keys. */
export type Spec = Readonly<Record<string, Reader<unknown>>>;

/** What a block's keys held; a key that is absent or invalid is undefined. */
export type Values<S extends Spec> = { -readonly [K in keyof S]?: ReturnType<S[K]> };

/** A block's values, and the first node of each key that was given. */
export interface Read<S extends Spec> {
  readonly values: Values<S>;
  readonly nodes: { -readonly [K in keyof S]?: Node };
}

const asNode = { deserializeFromNode: (n: Node) => n };

/**
 * Reads the children of `c` by `spec`: a key given twice, a bad value and an
 * unknown key (with the nearest known one) are each reported.
 */
export function readChildren<S extends Spec>(
  c: DeserializationContext,
  path: string,
  spec: S,
  reporter: Reporter,
): Read<S> {
  const values: Values<S> = {};
  const nodes: Read<S>["nodes"] = {};
  for (const key of Object.keys(spec) as (keyof S & string)[]) {
    const [first, ...extra] = c.children(key, asNode);
    if (!first) continue;
    nodes[key] = first;
    const keyPath = path ? `${path}.${key}` : key;
    for (const node of extra) {
      reporter.report(node, `${keyPath} is given twice (first on line ${reporter.at(first)[0]})`);
    }
    const value = readNode(first, keyPath, spec[key]!, reporter);
    if (value !== undefined) values[key] = value as Values<S>[typeof key];
  }
  const known = Object.keys(spec);
  for (const [key, node] of c.children.entries(asNode)) {
    const hint = closest(key, known);
    reporter.report(
      node,
      `unknown key "${key}"${path ? ` in ${path}` : ""}` +
        (hint ? ` (did you mean "${hint}"?)` : `; known keys: ${known.join(", ")}`),
    );
  }
  return { values, nodes };
}

/** Runs `read` on `node`, reporting what goes wrong at the most precise place known. */
export function readNode<T>(
  node: Node,
  path: string,
  read: Reader<T>,
  reporter: Reporter,
): T | undefined {
  try {
    return deserialize(node, (c: DeserializationContext) => read({ c, node, path, reporter }));
  } catch (e) {
    // The decoder wraps what a nested reader throws; the innermost Problem says it best.
    const problem = innermostProblem(e);
    if (problem) reporter.report(problem.place ?? node, problem.message);
    else if (e instanceof KdlDeserializeError) reporter.report(e.location, explain(e, path));
    else throw e;
    return undefined;
  }
}

function innermostProblem(e: unknown): Problem | undefined {
  for (let cur = e; cur instanceof Error; cur = cur.cause) {
    if (cur instanceof Problem) return cur;
  }
  return undefined;
}

/** A block `{ … }` read by `spec`; a value in place of the block is an error. */
export function block<S extends Spec>(spec: S): Reader<Read<S>> {
  return (f) => {
    if (f.node.entries.length > 0) {
      throw new Problem(f.node.entries[0], `${f.path} takes a block { … }, not a value`);
    }
    return readChildren(f.c, f.path, spec, f.reporter);
  };
}

/** A string. */
export const text: Reader<string> = (f) => f.c.argument.required("string");

/** A string with something in it. */
export const nonEmptyText: Reader<string> = (f) => {
  const v = text(f);
  if (v.trim() === "") throw new Problem(f.node.entries[0], `${f.path} must not be empty`);
  return v;
};

/** `#true` or `#false`. */
export const flag: Reader<boolean> = (f) => f.c.argument.required("boolean");

/** A key with no value, present or not (`tcp`). */
export const marker: Reader<true> = () => true;

/** Any number of strings or numbers, as strings (`args`). */
export const words: Reader<string[]> = (f) => f.c.argument.rest("string", "number").map(String);

/** One or more server names (`depends-on`). */
export const serverNames: Reader<string[]> = (f) => {
  const names = f.c.argument.rest.required("string");
  names.forEach((n, i) => {
    if (!isValidName(n)) throw new Problem(f.node.entries[i], `${f.path}: bad server name "${n}"`);
  });
  return names;
};

/** An integer from `min` to `max`. */
export function integer(min: number, max: number): Reader<number> {
  return (f) => {
    const v = f.c.argument.required("number");
    if (!Number.isInteger(v) || v < min || v > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
      throw new Problem(f.node.entries[0], `${f.path} must be an integer ${range}, found ${v}`);
    }
    return v;
  };
}

/** One of `choices`. */
export function oneOf<T extends string>(choices: readonly T[]): Reader<T> {
  return (f) => {
    const v = text(f);
    if (!choices.includes(v as T)) {
      const list = choices.map((x) => `"${x}"`).join(", ");
      throw new Problem(f.node.entries[0], `${f.path} must be one of ${list}, found "${v}"`);
    }
    return v as T;
  };
}

/** A duration such as `"500ms"` or `"1m"`, in milliseconds. */
export const duration: Reader<number> = (f) => {
  const v = text(f);
  const ms = parseDuration(v);
  if (ms === undefined) {
    throw new Problem(
      f.node.entries[0],
      `${f.path} must be a duration such as "500ms", "10s", "1m" or "1h", found "${v}"`,
    );
  }
  if (ms > MAX_DURATION_MS) {
    throw new Problem(f.node.entries[0], `${f.path} must be at most "24h", found "${v}"`);
  }
  return ms;
};

/** A size such as `"10MiB"`, in bytes, more than zero. */
export const size: Reader<number> = (f) => {
  const v = text(f);
  const bytes = parseSize(v);
  if (bytes === undefined || bytes === 0) {
    throw new Problem(
      f.node.entries[0],
      `${f.path} must be a size such as "512KiB", "10MiB" or "1GiB", found "${v}"`,
    );
  }
  return bytes;
};

/** An absolute file system path: a daemon's working directory is not the user's. */
export const absolutePath: Reader<string> = (f) => {
  const v = text(f);
  if (!v.startsWith("/")) {
    throw new Problem(f.node.entries[0], `${f.path} must be an absolute path, found "${v}"`);
  }
  return v;
};

/** A URL path starting with `/`. */
export const urlPath: Reader<string> = (f) => {
  const v = text(f);
  if (!v.startsWith("/")) {
    throw new Problem(f.node.entries[0], `${f.path} must start with "/", found "${v}"`);
  }
  return v;
};

/** `env { NAME "value" … }`: names once each, values as strings (numbers and booleans too). */
export const envBlock: Reader<Record<string, string>> = (f) => {
  if (f.node.entries.length > 0) {
    throw new Problem(f.node.entries[0], `${f.path} takes a block { NAME "value" … }`);
  }
  const env: Record<string, string> = {};
  for (const [key, child] of f.c.children.entries(asNode)) {
    if (Object.hasOwn(env, key)) {
      f.reporter.report(child, `${f.path}.${key} is given twice`);
      continue;
    }
    if (key === "" || key.includes("=") || key.includes("\0")) {
      f.reporter.report(child, `${f.path} name "${key}" is not a valid environment variable name`);
      continue;
    }
    const value = readNode(
      child,
      `${f.path}.${key}`,
      (g) => String(g.c.argument.required("string", "number", "boolean")),
      f.reporter,
    );
    if (value !== undefined) env[key] = value;
  }
  return env;
};
