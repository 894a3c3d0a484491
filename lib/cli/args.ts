/** argv → a command of the table, with the path options every command takes (pure). */
import type { PathOverrides } from "../daemon/paths.ts";
import { UsageError } from "./usage_error.ts";
import {
  type AnyCommand,
  type Args,
  GLOBAL_OPTIONS,
  type Invocation,
  type OptionSpec,
} from "./command.ts";
import { COMMANDS } from "./commands.ts";

/** A parsed command line: the command, the path overrides, and how to run it. */
export interface Parsed extends Invocation {
  readonly paths: PathOverrides;
}

/** Parses `argv` (without the program name). */
export function parseArgv(
  argv: readonly string[],
  table: readonly AnyCommand[] = COMMANDS,
): Parsed {
  const [first, ...rest] = argv;
  const find = (name: string) => table.find((c) => c.name === name);
  const builtin = (name: string, positionals: string[] = []): Parsed => ({
    ...find(name)!.invoke({ values: {}, positionals }),
    paths: {},
  });
  if (first === undefined || first === "-h" || first === "--help") return builtin("help");
  if (first === "-V" || first === "--version") return builtin("version");
  const spec = find(first);
  if (!spec) throw new UsageError(`unknown command "${first}" (see xy --help)`);
  const args = parseOptions(rest, spec);
  if (args.values.help) return builtin("help", [spec.name]);
  return { ...spec.invoke(args), paths: pathsOf(args.values) };
}

/**
 * Options and positionals, strictly: `--name value`, `--name=value`, `-x`,
 * `-abc` (flags), `-nVALUE`, and `--` before positionals that start with a
 * dash. Written here rather than taken from `node:util`, whose compatibility
 * layer costs every CLI call some 10 ms to load (bench/RESULTS.md, "What each change bought", 10).
 */
function parseOptions(args: string[], spec: AnyCommand): Args {
  const options: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS, ...spec.options };
  const short = new Map(
    Object.entries(options).flatMap(([name, o]) => o.short ? [[o.short, name] as const] : []),
  );
  const values: Record<string, string | boolean | string[]> = {};
  const positionals: string[] = [];
  const fail = (message: string): never => {
    throw new UsageError(`${spec.name}: ${message}`);
  };
  /** Sets option `name` (as written: `shown`), its value inline or from the next argument. */
  const set = (name: string, shown: string, inline: string | undefined, at: number): number => {
    const o = options[name];
    if (!o || !Object.hasOwn(options, name)) return fail(`unknown option '${shown}'`);
    if (o.type === "boolean") {
      if (inline !== undefined) fail(`option '${shown}' does not take a value`);
      values[name] = true;
      return at;
    }
    const put = (v: string) => {
      if (o.multiple) values[name] = [...(values[name] as string[] | undefined ?? []), v];
      else values[name] = v;
    };
    if (inline !== undefined) {
      put(inline);
      return at;
    }
    const next = args[at + 1];
    if (next === undefined) fail(`option '${shown} ${o.value ?? "VALUE"}' needs a value`);
    put(next!);
    return at + 1;
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      i = set(name, `--${name}`, eq < 0 ? undefined : arg.slice(eq + 1), i);
    } else if (arg.startsWith("-") && arg.length > 1) {
      // A group of one-letter options; a valued one takes the rest of the group, or the next argument.
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j]!;
        const name = short.get(letter) ?? fail(`unknown option '-${letter}'`);
        if (options[name]!.type === "string") {
          i = set(name, `-${letter}`, j + 1 < arg.length ? arg.slice(j + 1) : undefined, i);
          break;
        }
        set(name, `-${letter}`, undefined, i);
      }
    } else {
      positionals.push(arg);
    }
  }
  return { values, positionals };
}

function pathsOf(values: Args["values"]): PathOverrides {
  const s = (k: string) => (typeof values[k] === "string" ? values[k] as string : undefined);
  return { configDir: s("config-dir"), stateDir: s("state-dir"), socket: s("socket") };
}
