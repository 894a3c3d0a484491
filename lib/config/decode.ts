/**
 * One KDL document → a validated {@link ServerConfig}, or every error in it
 * with `file:line:col`. Pure: the caller reads the file. The keys and their
 * readers are the specs below; readers.ts does the reading and reporting.
 */
import { type Document, parse } from "@bgotink/kdl";
import { parse as parseV1 } from "@bgotink/kdl/v1-compat";
import {
  type DeserializationContext,
  deserialize,
  KdlDeserializeError,
} from "@bgotink/kdl/dessert";
import type { ConfigError } from "./config_error.ts";
import { explain, syntaxErrors } from "./kdl_errors.ts";
import {
  absolutePath,
  block,
  duration,
  envBlock,
  flag,
  integer,
  marker,
  nonEmptyText,
  oneOf,
  type Read,
  readChildren,
  Reporter,
  serverNames,
  size,
  urlPath,
  words,
} from "./readers.ts";
import {
  DEFAULTS,
  type HealthConfig,
  isValidName,
  type LogsConfig,
  type RestartConfig,
  type ServerConfig,
} from "./schema.ts";

/** The outcome of decoding one file. */
export type DecodeResult =
  | { readonly ok: true; readonly config: ServerConfig; readonly positions: Positions }
  | { readonly ok: false; readonly errors: readonly ConfigError[] };

/** Where keys that other files are checked against were written: [line, column]. */
export interface Positions {
  readonly port: readonly [number, number];
  readonly dependsOn: readonly [number, number];
}

const RESTART = {
  policy: oneOf(["always", "on-failure", "never"] as const),
  "backoff-initial": duration,
  "backoff-max": duration,
  "max-retries-per-minute": integer(1, 10_000),
  "reset-after": duration,
};
const STOP = { grace: duration };
const PROBES = ["mcp", "http", "tcp"] as const;
const HEALTH = {
  mcp: urlPath,
  http: urlPath,
  tcp: marker,
  interval: duration,
  timeout: duration,
  retries: integer(1, 1000),
  "start-period": duration,
};
const LOGS = { "max-size": size, keep: integer(0, 1000) };
const STDIO = {
  sharing: oneOf(["shared", "per-session"] as const),
  "max-sessions": integer(1, 1000),
  "session-idle": duration,
  "log-messages": flag,
  auth: oneOf(["token", "none"] as const),
};
const TOP = {
  command: nonEmptyText,
  args: words,
  port: integer(1, 65535),
  env: envBlock,
  "working-dir": absolutePath,
  autostart: flag,
  "depends-on": serverNames,
  restart: block(RESTART),
  stop: block(STOP),
  health: block(HEALTH),
  logs: block(LOGS),
  transport: oneOf(["http", "stdio"] as const),
  stdio: block(STDIO),
};

/** Decodes the text of `<name>.kdl`; `file` is the path shown in errors. */
export function decodeServer(text: string, opts: { file: string; name: string }): DecodeResult {
  const { file, name } = opts;
  const reporter = new Reporter(file);
  if (!isValidName(name)) {
    reporter.report(
      undefined,
      `bad server name "${name}": a name is the file's stem and must match [a-z0-9_-]+`,
    );
  }
  const doc = parseDocument(text, reporter);
  let top: Read<typeof TOP> | undefined;
  if (doc) {
    try {
      top = deserialize(doc, (c: DeserializationContext) => readChildren(c, "", TOP, reporter));
    } catch (e) {
      if (!(e instanceof KdlDeserializeError)) throw e;
      reporter.report(e.location, explain(e, "document"));
    }
  }
  const config = top && build(name, file, top, reporter);
  const errors = reporter.errors.sort((a, b) => a.line - b.line || a.column - b.column);
  if (errors.length > 0 || !top || !config) return { ok: false, errors };
  return {
    ok: true,
    config,
    positions: {
      port: reporter.at(top.nodes.port?.entries[0]),
      dependsOn: reporter.at(top.nodes["depends-on"]),
    },
  };
}

/** KDL v2, else v1; the v2 parser's errors when neither parses. */
function parseDocument(text: string, reporter: Reporter): Document | undefined {
  try {
    return parse(text, { storeLocations: true });
  } catch (v2Error) {
    try {
      return parseV1(text, { storeLocations: true });
    } catch {
      for (const e of syntaxErrors(v2Error)) {
        reporter.reportAt([e.line, e.column], `invalid KDL: ${e.message}`);
      }
      return undefined;
    }
  }
}

/** The config from what the keys held, with defaults; checks that span keys are made here. */
function build(
  name: string,
  file: string,
  { values: v, nodes }: Read<typeof TOP>,
  reporter: Reporter,
): ServerConfig | undefined {
  if (!nodes.command) {
    reporter.report(
      undefined,
      `missing required key "command" (e.g. command "/usr/local/bin/my-mcp")`,
    );
  }
  if (!nodes.port) reporter.report(undefined, `missing required key "port" (e.g. port 8421)`);
  const restart = v.restart && restartConfig(v.restart, nodes.restart, reporter);
  const transport = v.transport ?? DEFAULTS.transport;
  if (nodes.stdio && transport !== "stdio") {
    reporter.report(nodes.stdio, `stdio { … } goes with transport "stdio"`);
  }
  const health = transport === "stdio"
    ? stdioHealth(v.health, nodes.health, reporter)
    : v.health && healthConfig(v.health, nodes.health, reporter);
  if (v.command === undefined || v.port === undefined) return undefined;
  const s = v.stdio?.values;
  const d = DEFAULTS.stdio;
  const stdio = transport !== "stdio" ? undefined : {
    sharing: s?.sharing ?? d.sharing,
    maxSessions: s?.["max-sessions"] ?? d.maxSessions,
    sessionIdleMs: s?.["session-idle"] ?? d.sessionIdleMs,
    logMessages: s?.["log-messages"] ?? d.logMessages,
    auth: s?.auth ?? d.auth,
  };
  const logs: LogsConfig = {
    maxSizeBytes: v.logs?.values["max-size"] ?? DEFAULTS.logs.maxSizeBytes,
    keep: v.logs?.values.keep ?? DEFAULTS.logs.keep,
  };
  return {
    name,
    file,
    command: v.command,
    args: v.args ?? [],
    port: v.port,
    env: v.env ?? {},
    ...(v["working-dir"] === undefined ? {} : { workingDir: v["working-dir"] }),
    autostart: v.autostart ?? DEFAULTS.autostart,
    dependsOn: v["depends-on"] ?? [],
    restart: restart ?? DEFAULTS.restart,
    stop: { graceMs: v.stop?.values.grace ?? DEFAULTS.stop.graceMs },
    ...(health === undefined ? {} : { health }),
    logs,
    transport,
    ...(stdio ? { stdio } : {}),
  };
}

/**
 * A stdio server's health: xy asks the child itself (its `initialize`, then
 * `ping`s), so the block may set only the timings; a probe kind is an error.
 */
function stdioHealth(
  read: Read<typeof HEALTH> | undefined,
  node: Read<typeof TOP>["nodes"]["health"],
  reporter: Reporter,
): HealthConfig {
  for (const p of PROBES) {
    const given = read?.nodes[p];
    if (given) {
      reporter.report(
        given,
        `health.${p}: a stdio server is checked by xy itself (initialize, then ping); ` +
          `its health block takes only interval, timeout, retries and start-period`,
      );
    }
  }
  void node;
  const h = read?.values ?? {};
  const d = DEFAULTS.health;
  return {
    kind: "stdio",
    intervalMs: h.interval ?? d.intervalMs,
    timeoutMs: h.timeout ?? d.timeoutMs,
    retries: h.retries ?? d.retries,
    startPeriodMs: h["start-period"] ?? d.startPeriodMs,
  };
}

function restartConfig(
  { values: r }: Read<typeof RESTART>,
  node: Read<typeof TOP>["nodes"]["restart"],
  reporter: Reporter,
): RestartConfig {
  const d = DEFAULTS.restart;
  const backoffInitialMs = r["backoff-initial"] ?? d.backoffInitialMs;
  const backoffMaxMs = r["backoff-max"] ?? Math.max(d.backoffMaxMs, backoffInitialMs);
  if (backoffMaxMs < backoffInitialMs) {
    reporter.report(node, `restart.backoff-max must not be shorter than restart.backoff-initial`);
  }
  return {
    policy: r.policy ?? d.policy,
    backoffInitialMs,
    backoffMaxMs,
    maxRetriesPerMinute: r["max-retries-per-minute"] ?? d.maxRetriesPerMinute,
    resetAfterMs: r["reset-after"] ?? d.resetAfterMs,
  };
}

function healthConfig(
  { values: h, nodes }: Read<typeof HEALTH>,
  node: Read<typeof TOP>["nodes"]["health"],
  reporter: Reporter,
): HealthConfig | undefined {
  const given = PROBES.filter((p) => nodes[p]);
  if (given.length === 0) {
    reporter.report(node, `health needs a probe: mcp "/path", http "/path" or tcp`);
    return undefined;
  }
  if (given.length > 1) {
    reporter.report(
      nodes[given[1]!],
      `health takes one probe: mcp "/path", http "/path" or tcp, found ${given.length}`,
    );
  }
  const kind = given[0]!;
  const path = kind === "tcp" ? undefined : h[kind];
  if (kind !== "tcp" && path === undefined) return undefined;
  const d = DEFAULTS.health;
  return {
    kind,
    ...(path === undefined ? {} : { path }),
    intervalMs: h.interval ?? d.intervalMs,
    timeoutMs: h.timeout ?? d.timeoutMs,
    retries: h.retries ?? d.retries,
    startPeriodMs: h["start-period"] ?? d.startPeriodMs,
  };
}
