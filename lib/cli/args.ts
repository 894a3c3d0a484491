/** argv → a command of the table, with the path options every command takes (pure). */
import { parseArgs } from "node:util";
import type { PathOverrides } from "../daemon/paths.ts";
import { UsageError } from "../errors.ts";
import { type AnyCommand, type Args, GLOBAL_OPTIONS, type Invocation } from "./command.ts";
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

function parseOptions(args: string[], spec: AnyCommand): Args {
  const options: Record<string, { type: "boolean" | "string"; short?: string }> = {};
  for (const [name, o] of Object.entries({ ...GLOBAL_OPTIONS, ...spec.options })) {
    options[name] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  }
  try {
    const { values, positionals } = parseArgs({
      args,
      options,
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Args["values"], positionals };
  } catch (e) {
    const msg = e instanceof Error ? e.message.replace(/\. To specify.*$/s, "") : String(e);
    throw new UsageError(`${spec.name}: ${msg.charAt(0).toLowerCase()}${msg.slice(1)}`);
  }
}

function pathsOf(values: Args["values"]): PathOverrides {
  const s = (k: string) => (typeof values[k] === "string" ? values[k] as string : undefined);
  return { configDir: s("config-dir"), stateDir: s("state-dir"), socket: s("socket") };
}
