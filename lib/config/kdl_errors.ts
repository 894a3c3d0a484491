/**
 * The KDL library's errors in the words of this project: parse failures with
 * their positions, and the typed decoder's generic messages turned into ones
 * that name the key and what it expects.
 */
import { InvalidKdlError } from "@bgotink/kdl";
import type { KdlDeserializeError } from "@bgotink/kdl/dessert";
import { errorMessage } from "../error_message.ts";

/** One error of a document that does not parse. */
export interface KdlSyntaxError {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** The line, column and message of each error inside a KDL parse failure. */
export function syntaxErrors(e: unknown): KdlSyntaxError[] {
  if (e instanceof InvalidKdlError) {
    return [...e.flat()].map((x) => ({
      line: x.start?.line ?? 1,
      column: x.start?.column ?? 1,
      message: x.message,
    }));
  }
  if (e instanceof AggregateError) return e.errors.flatMap(syntaxErrors);
  return [{ line: 1, column: 1, message: errorMessage(e) }];
}

/** The decoder's message about `path`, said the way xy says it. */
export function explain(e: KdlDeserializeError, path: string): string {
  const m = e.message;
  let match: RegExpExecArray | null;
  if (m.startsWith("Missing argument")) return `${path} needs a value`;
  if ((match = /^Expected a (.+) but got (\w+)/.exec(m))) {
    const value = "getValue" in e.location ? e.location.getValue() : undefined;
    const shown = value === undefined ? match[2] : `${match[2]} ${JSON.stringify(value)}`;
    return `${path} must be a ${match[1]}, found ${shown}`;
  }
  if ((match = /^Found (\d+) superfluous arguments/.exec(m))) {
    return `${path} takes one value but has ${match[1]} more ` +
      `(separate nodes on one line with ";")`;
  }
  if (m.startsWith("Found superfluous properties")) {
    return `${path} does not take properties (${m.replace("Found superfluous properties ", "")})`;
  }
  if (m.includes("superfluous children")) return `${path} does not take a block`;
  return `${path}: ${m}`;
}
