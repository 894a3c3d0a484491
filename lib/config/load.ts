/**
 * A config directory → valid configs and per-file errors. The only I/O of the
 * config layer; the checks across files (ports, depends-on) are pure.
 */
import { ConfigError } from "./config_error.ts";
import { errorMessage } from "../error_message.ts";
import { decodeServer, type Positions } from "./decode.ts";
import type { ServerConfig } from "./schema.ts";
import { untrusted } from "./trust.ts";

/** A file that did not decode, with all its errors. */
export interface InvalidFile {
  readonly name: string;
  readonly file: string;
  readonly errors: readonly ConfigError[];
}

/** Everything found in a config directory. */
export interface LoadResult {
  readonly configs: readonly ServerConfig[];
  readonly invalid: readonly InvalidFile[];
}

/** A decoded file before the checks across files. */
export interface Decoded {
  readonly config: ServerConfig;
  readonly positions: Positions;
}

/** Options of {@link loadConfigDir}. */
export interface LoadOptions {
  /** Servers that keep their port when another file claims it too (those running now). */
  readonly keepPorts?: ReadonlySet<string>;
}

/** Reads every `*.kdl` file of `dir` (other files are ignored). */
export async function loadConfigDir(dir: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if ((entry.isFile || entry.isSymlink) && entry.name.endsWith(".kdl")) files.push(entry.name);
  }
  files.sort();
  const decoded: Decoded[] = [];
  const invalid: InvalidFile[] = [];
  const dirProblem = await untrusted(dir, "config dir");
  for (const fileName of files) {
    const name = fileName.slice(0, -".kdl".length);
    const file = `${dir}/${fileName}`;
    // The daemon runs what these files say: nobody else may be able to change them.
    const problem = dirProblem ?? await untrusted(file, "file");
    if (problem) {
      invalid.push({ name, file, errors: [new ConfigError(file, 1, 1, problem)] });
      continue;
    }
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (e) {
      const why = `cannot read: ${errorMessage(e)}`;
      invalid.push({ name, file, errors: [new ConfigError(file, 1, 1, why)] });
      continue;
    }
    const result = decodeServer(text, { file, name });
    if (result.ok) decoded.push({ config: result.config, positions: result.positions });
    else invalid.push({ name, file, errors: result.errors });
  }
  const checked = checkAcrossFiles(decoded, opts.keepPorts, new Set(invalid.map((f) => f.name)));
  return { configs: checked.configs, invalid: [...invalid, ...checked.invalid] };
}

/**
 * Checks what no single file can: unique ports, `depends-on` naming servers
 * that exist, no dependency cycles. A server that fails is moved to `invalid`.
 * Where two files claim one port, a server in `keepPorts` keeps it (a newcomer
 * must never displace a running server); otherwise the first by name does.
 * A dependency on a file that is there but invalid (`invalidNames`) is no
 * error of the dependent's: it waits, `blocked`, as for one that clashes here.
 */
export function checkAcrossFiles(
  decoded: readonly Decoded[],
  keepPorts: ReadonlySet<string> = new Set(),
  invalidNames: ReadonlySet<string> = new Set(),
): LoadResult {
  const problems = new Map<string, ConfigError[]>();
  const add = (d: Decoded, at: readonly [number, number], message: string) => {
    const list = problems.get(d.config.name) ?? [];
    list.push(new ConfigError(d.config.file, at[0], at[1], message));
    problems.set(d.config.name, list);
  };

  const byPort = new Map<number, Decoded>();
  const keepersFirst = [...decoded].sort((a, b) =>
    Number(keepPorts.has(b.config.name)) - Number(keepPorts.has(a.config.name))
  );
  for (const d of keepersFirst) {
    const first = byPort.get(d.config.port);
    if (first) {
      add(
        d,
        d.positions.port,
        `port ${d.config.port} is already used by server "${first.config.name}" (${first.config.file})`,
      );
    } else byPort.set(d.config.port, d);
  }

  const byName = new Map(decoded.map((d) => [d.config.name, d]));
  for (const d of decoded) {
    for (const dep of d.config.dependsOn) {
      if (dep === d.config.name) {
        add(d, d.positions.dependsOn, `depends-on names the server itself ("${dep}")`);
      } else if (!byName.has(dep) && !invalidNames.has(dep)) {
        add(d, d.positions.dependsOn, `depends-on names "${dep}", but there is no ${dep}.kdl`);
      }
    }
  }

  for (const cycle of findCycles(decoded.map((d) => d.config))) {
    for (const name of cycle) {
      const d = byName.get(name)!;
      add(
        d,
        d.positions.dependsOn,
        `depends-on forms a cycle: ${[...cycle, cycle[0]].join(" → ")}`,
      );
    }
  }

  const configs: ServerConfig[] = [];
  const invalid: InvalidFile[] = [];
  for (const d of decoded) {
    const errors = problems.get(d.config.name);
    if (errors) invalid.push({ name: d.config.name, file: d.config.file, errors });
    else configs.push(d.config);
  }
  return { configs, invalid };
}

/** The dependency cycles among `configs`, each listed once, in dependency order. */
export function findCycles(configs: readonly ServerConfig[]): string[][] {
  const deps = new Map(configs.map((c) => [c.name, c.dependsOn]));
  const state = new Map<string, "visiting" | "done">();
  const cycles: string[][] = [];
  const stack: string[] = [];
  const visit = (name: string) => {
    const s = state.get(name);
    if (s === "done") return;
    if (s === "visiting") {
      cycles.push(stack.slice(stack.indexOf(name)));
      return;
    }
    state.set(name, "visiting");
    stack.push(name);
    for (const dep of deps.get(name) ?? []) if (deps.has(dep)) visit(dep);
    stack.pop();
    state.set(name, "done");
  };
  for (const name of [...deps.keys()].sort()) visit(name);
  return cycles;
}
