/**
 * One KDL document → a validated {@link ServerConfig}, or every error in it
 * with `file:line:col`. Pure: the caller reads the file.
 *
 * Structure and typed values go through @bgotink/kdl's `dessert` decoder; the
 * layer here adds what dessert does not know: which keys exist (with a
 * suggestion for a misspelt one), keys given twice, units, ranges, and error
 * messages that say what was expected. Errors are collected, not thrown, so
 * one pass reports everything wrong with a file.
 */
import {
  type Document,
  type Entry,
  getLocation,
  InvalidKdlError,
  type Node,
  parse,
} from "@bgotink/kdl";
import { parse as parseV1 } from "@bgotink/kdl/v1-compat";
import {
  type DeserializationContext,
  deserialize,
  KdlDeserializeError,
} from "@bgotink/kdl/dessert";
import { ConfigError } from "../errors.ts";
import {
  DEFAULTS,
  type HealthConfig,
  type HealthKind,
  isValidName,
  type LogsConfig,
  type RestartConfig,
  type RestartPolicy,
  type ServerConfig,
} from "./schema.ts";
import { parseDuration, parseSize } from "./units.ts";

/** The outcome of decoding one file. */
export type DecodeResult =
  | { readonly ok: true; readonly config: ServerConfig; readonly positions: Positions }
  | { readonly ok: false; readonly errors: readonly ConfigError[] };

const TOP_KEYS = [
  "command",
  "args",
  "port",
  "env",
  "working-dir",
  "autostart",
  "depends-on",
  "restart",
  "stop",
  "health",
  "logs",
];
const RESTART_KEYS = [
  "policy",
  "backoff-initial",
  "backoff-max",
  "max-retries-per-minute",
  "reset-after",
];
const HEALTH_KEYS = ["mcp", "http", "tcp", "interval", "timeout", "retries", "start-period"];
const POLICIES: readonly RestartPolicy[] = ["always", "on-failure", "never"];

/** Where keys that other files are checked against were written: [line, column]. */
export interface Positions {
  readonly port: readonly [number, number];
  readonly dependsOn: readonly [number, number];
}

/** An error raised inside a reader, already carrying its message and place. */
class Problem extends Error {
  constructor(readonly at: Node | Entry | undefined, message: string) {
    super(message);
  }
}

type Read<T> = (ctx: DeserializationContext, node: Node) => T;

/** Decodes the text of `<name>.kdl`; `file` is the path shown in errors. */
export function decodeServer(text: string, opts: { file: string; name: string }): DecodeResult {
  const { file, name } = opts;
  const errors: ConfigError[] = [];
  const at = (el: Node | Entry | Document | undefined): [number, number] => {
    const loc = el ? getLocation(el) : undefined;
    return loc ? [loc.start.line, loc.start.column] : [1, 1];
  };
  const report = (el: Node | Entry | Document | undefined, message: string) => {
    errors.push(new ConfigError(file, ...at(el), message));
  };

  if (!isValidName(name)) {
    report(
      undefined,
      `bad server name "${name}": a name is the file's stem and must match [a-z0-9_-]+`,
    );
  }

  let doc: Document;
  try {
    doc = parse(text, { storeLocations: true });
  } catch (v2Error) {
    try {
      doc = parseV1(text, { storeLocations: true });
    } catch {
      for (const e of kdlErrors(v2Error)) {
        errors.push(new ConfigError(file, e.line, e.column, `invalid KDL: ${e.message}`));
      }
      return { ok: false, errors };
    }
  }

  /** Reads child `key` of `ctx` with `read`, reporting a repeat, a bad value or a decoder error. */
  function field<T>(
    ctx: DeserializationContext,
    key: string,
    path: string,
    read: Read<T>,
  ): T | undefined {
    const nodes = ctx.children(key, { deserializeFromNode: (n: Node) => n });
    const first = nodes[0];
    if (!first) return undefined;
    for (const extra of nodes.slice(1)) {
      report(extra, `${path} is given twice (first on line ${at(first)[0]})`);
    }
    try {
      return deserialize(first, (c: DeserializationContext) => read(c, first));
    } catch (e) {
      // dessert wraps what a nested reader throws; the innermost Problem says it best.
      const problem = innermostProblem(e);
      if (problem) report(problem.at ?? first, problem.message);
      else if (e instanceof KdlDeserializeError) report(e.location, explain(e, path));
      else throw e;
      return undefined;
    }
  }

  /** Reports every child of a block that is not one of `known`. */
  function unknownKeys(ctx: DeserializationContext, known: readonly string[], where: string) {
    for (const [key, node] of ctx.children.entries({ deserializeFromNode: (n: Node) => n })) {
      const hint = closest(key, known);
      report(
        node,
        `unknown key "${key}"${where ? ` in ${where}` : ""}` +
          (hint ? ` (did you mean "${hint}"?)` : `; known keys: ${known.join(", ")}`),
      );
    }
  }

  /** A block node: no arguments of its own, children read by `read`. */
  function block<T>(path: string, known: readonly string[], read: Read<T>): Read<T> {
    return (c, node) => {
      if (node.entries.length > 0) {
        throw new Problem(node.entries[0], `${path} takes a block { … }, not a value`);
      }
      const value = read(c, node);
      unknownKeys(c, known, path);
      return value;
    };
  }

  const string: Read<string> = (c) => c.argument.required("string");
  const integer = (path: string, min: number, max: number): Read<number> => (c, node) => {
    const v = c.argument.required("number");
    if (!Number.isInteger(v) || v < min || v > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
      throw new Problem(node.entries[0], `${path} must be an integer ${range}, found ${v}`);
    }
    return v;
  };
  const duration = (path: string): Read<number> => (c, node) => {
    const v = c.argument.required("string");
    const ms = parseDuration(v);
    if (ms === undefined) {
      throw new Problem(
        node.entries[0],
        `${path} must be a duration such as "500ms", "10s", "1m" or "1h", found "${v}"`,
      );
    }
    return ms;
  };
  const size = (path: string): Read<number> => (c, node) => {
    const v = c.argument.required("string");
    const bytes = parseSize(v);
    if (bytes === undefined || bytes === 0) {
      throw new Problem(
        node.entries[0],
        `${path} must be a size such as "512KiB", "10MiB" or "1GiB", found "${v}"`,
      );
    }
    return bytes;
  };
  const boolean: Read<boolean> = (c) => c.argument.required("boolean");
  const pathValue = (path: string): Read<string> => (c, node) => {
    const v = c.argument.required("string");
    if (!v.startsWith("/")) {
      throw new Problem(node.entries[0], `${path} must start with "/", found "${v}"`);
    }
    return v;
  };

  const decodeRestart = block("restart", RESTART_KEYS, (c, node): RestartConfig => {
    const d = DEFAULTS.restart;
    const policy = field(c, "policy", "restart.policy", (cc, node) => {
      const v = cc.argument.required("string");
      if (!POLICIES.includes(v as RestartPolicy)) {
        throw new Problem(
          node.entries[0],
          `restart.policy must be one of "always", "on-failure", "never", found "${v}"`,
        );
      }
      return v as RestartPolicy;
    }) ?? d.policy;
    const backoffInitialMs =
      field(c, "backoff-initial", "restart.backoff-initial", duration("restart.backoff-initial")) ??
        d.backoffInitialMs;
    const backoffMaxMs =
      field(c, "backoff-max", "restart.backoff-max", duration("restart.backoff-max")) ??
        Math.max(d.backoffMaxMs, backoffInitialMs);
    if (backoffMaxMs < backoffInitialMs) {
      report(node, `restart.backoff-max must not be shorter than restart.backoff-initial`);
    }
    const maxRetriesPerMinute = field(
      c,
      "max-retries-per-minute",
      "restart.max-retries-per-minute",
      integer("restart.max-retries-per-minute", 1, 10_000),
    ) ?? d.maxRetriesPerMinute;
    const resetAfterMs =
      field(c, "reset-after", "restart.reset-after", duration("restart.reset-after")) ??
        d.resetAfterMs;
    return { policy, backoffInitialMs, backoffMaxMs, maxRetriesPerMinute, resetAfterMs };
  });

  const decodeHealth = block("health", HEALTH_KEYS, (c, node): HealthConfig | undefined => {
    const d = DEFAULTS.health;
    const kinds: { kind: HealthKind; path?: string; node: Node }[] = [];
    let probes = 0;
    for (const kind of ["mcp", "http"] as const) {
      const got = field(
        c,
        kind,
        `health.${kind}`,
        (cc, node) => {
          probes++;
          return { path: pathValue(`health.${kind}`)(cc, node), node };
        },
      );
      if (got) kinds.push({ kind, path: got.path, node: got.node });
    }
    const tcp = field(c, "tcp", "health.tcp", (_cc, node) => node);
    if (tcp) kinds.push({ kind: "tcp", node: tcp });
    const intervalMs = field(c, "interval", "health.interval", duration("health.interval")) ??
      d.intervalMs;
    const timeoutMs = field(c, "timeout", "health.timeout", duration("health.timeout")) ??
      d.timeoutMs;
    const retries = field(c, "retries", "health.retries", integer("health.retries", 1, 1000)) ??
      d.retries;
    const startPeriodMs =
      field(c, "start-period", "health.start-period", duration("health.start-period")) ??
        d.startPeriodMs;
    const chosen = kinds[0];
    if (kinds.length > 1) {
      report(
        kinds[1]!.node,
        `health takes one probe: mcp "/path", http "/path" or tcp, found ${kinds.length}`,
      );
    }
    if (!chosen && probes === 0) {
      throw new Problem(node, `health needs a probe: mcp "/path", http "/path" or tcp`);
    }
    if (!chosen) return undefined;
    const base = { kind: chosen.kind, intervalMs, timeoutMs, retries, startPeriodMs };
    return chosen.path === undefined ? base : { ...base, path: chosen.path };
  });

  const decodeLogs = block("logs", ["max-size", "keep"], (c): LogsConfig => ({
    maxSizeBytes: field(c, "max-size", "logs.max-size", size("logs.max-size")) ??
      DEFAULTS.logs.maxSizeBytes,
    keep: field(c, "keep", "logs.keep", integer("logs.keep", 0, 1000)) ?? DEFAULTS.logs.keep,
  }));

  const decodeStop = block("stop", ["grace"], (c) => ({
    graceMs: field(c, "grace", "stop.grace", duration("stop.grace")) ?? DEFAULTS.stop.graceMs,
  }));

  const decodeEnv: Read<Record<string, string>> = (c, node) => {
    if (node.entries.length > 0) {
      throw new Problem(node.entries[0], `env takes a block { NAME "value" … }`);
    }
    const env: Record<string, string> = {};
    for (const [key, child] of c.children.entries({ deserializeFromNode: (n: Node) => n })) {
      if (Object.hasOwn(env, key)) {
        report(child, `env.${key} is given twice`);
        continue;
      }
      if (key === "" || key.includes("=") || key.includes("\0")) {
        report(child, `env name "${key}" is not a valid environment variable name`);
        continue;
      }
      try {
        env[key] = deserialize(child, (cc: DeserializationContext) => {
          const v = cc.argument.required("string", "number", "boolean");
          return String(v);
        });
      } catch (e) {
        if (e instanceof KdlDeserializeError) report(e.location, explain(e, `env.${key}`));
        else throw e;
      }
    }
    return env;
  };

  let result: ServerConfig | undefined;
  const positions = { port: [1, 1] as [number, number], dependsOn: [1, 1] as [number, number] };
  try {
    result = deserialize(doc, (c: DeserializationContext) => {
      const command = field(c, "command", "command", (cc, node) => {
        const v = string(cc, node);
        if (v.trim() === "") throw new Problem(node.entries[0], `command must not be empty`);
        return v;
      });
      const args = field(c, "args", "args", (cc) =>
        cc.argument.rest("string", "number").map(String)) ?? [];
      const port = field(c, "port", "port", (cc, node) => {
        positions.port = at(node.entries[0]);
        return integer("port", 1, 65535)(cc, node);
      });
      const env = field(c, "env", "env", decodeEnv) ?? {};
      const workingDir = field(c, "working-dir", "working-dir", string);
      const autostart = field(c, "autostart", "autostart", boolean) ?? DEFAULTS.autostart;
      const dependsOn = field(c, "depends-on", "depends-on", (cc, node) => {
        positions.dependsOn = at(node);
        const names = cc.argument.rest.required("string");
        names.forEach((n, i) => {
          if (!isValidName(n)) {
            throw new Problem(node.entries[i], `depends-on: bad server name "${n}"`);
          }
        });
        return names;
      }) ?? [];
      const restart = field(c, "restart", "restart", decodeRestart) ?? DEFAULTS.restart;
      const stop = field(c, "stop", "stop", decodeStop) ?? DEFAULTS.stop;
      const health = field(c, "health", "health", decodeHealth);
      const logs = field(c, "logs", "logs", decodeLogs) ?? DEFAULTS.logs;
      unknownKeys(c, TOP_KEYS, "");
      if (command === undefined && !errors.some((e) => e.detail.startsWith("command"))) {
        report(undefined, `missing required key "command" (e.g. command "/usr/local/bin/my-mcp")`);
      }
      if (port === undefined && !errors.some((e) => e.detail.startsWith("port"))) {
        report(undefined, `missing required key "port" (e.g. port 8421)`);
      }
      if (command === undefined || port === undefined) return undefined;
      const config: ServerConfig = {
        name,
        file,
        command,
        args,
        port,
        env,
        ...(workingDir === undefined ? {} : { workingDir }),
        autostart,
        dependsOn,
        restart,
        stop,
        ...(health === undefined ? {} : { health }),
        logs,
      };
      return config;
    });
  } catch (e) {
    if (e instanceof KdlDeserializeError) report(e.location, explain(e, "document"));
    else throw e;
  }
  errors.sort((a, b) => a.line - b.line || a.column - b.column);
  if (errors.length > 0 || !result) return { ok: false, errors };
  return { ok: true, config: result, positions };
}

function innermostProblem(e: unknown): Problem | undefined {
  for (let cur = e; cur instanceof Error; cur = cur.cause) {
    if (cur instanceof Problem) return cur;
  }
  return undefined;
}

/** Turns dessert's generic messages into ones that name the key and what it expects. */
function explain(e: KdlDeserializeError, path: string): string {
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

/** The line, column and message of each error inside a KDL parse failure. */
function kdlErrors(e: unknown): { line: number; column: number; message: string }[] {
  if (e instanceof InvalidKdlError) {
    return [...e.flat()].map((x) => ({
      line: x.start?.line ?? 1,
      column: x.start?.column ?? 1,
      message: x.message,
    }));
  }
  if (e instanceof AggregateError) return e.errors.flatMap(kdlErrors);
  return [{ line: 1, column: 1, message: e instanceof Error ? e.message : String(e) }];
}

/** The known key nearest to `key` by edit distance, if it is near enough to be a typo. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(key, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        prev[j]! + 1,
        cur[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length]!;
}
