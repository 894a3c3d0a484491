/**
 * What a CLI command is: its name, options, parser, help text and runner, in
 * one record. The table of them (commands.ts) is the single source for
 * parsing, dispatch and `--help`.
 */
import type { DaemonClient } from "../daemon/client.ts";
import { isValidName } from "../config/schema.ts";
import type { Paths } from "../daemon/paths.ts";
import { UsageError } from "./usage_error.ts";
import type { Style } from "./format.ts";
import type { Io } from "./io.ts";

/** One option: a flag or a valued option, with the line `--help` shows for it. */
export interface OptionSpec {
  readonly type: "boolean" | "string";
  readonly short?: string;
  /** Shown as `--name VALUE` for string options. */
  readonly value?: string;
  readonly help: string;
  /** Not shown by `--help` (e.g. flags the CLI passes to itself). */
  readonly hidden?: boolean;
  /** A string option that may be given again: its values, in order, as an array. */
  readonly multiple?: boolean;
}

/** A command line after option parsing. */
export interface Args {
  readonly values: Readonly<Record<string, string | boolean | readonly string[] | undefined>>;
  readonly positionals: readonly string[];
}

/** What a running command may use. */
export interface Context {
  readonly paths: Paths;
  readonly io: Io;
  readonly style: Style;
  /** The daemon, started in the background when none runs (unless `XY_NO_AUTOSTART=1`). */
  client(): Promise<DaemonClient>;
}

/** One command; `C` is its parsed form, `{ kind: name, … }`. */
export interface CommandSpec<C extends { readonly kind: string }> {
  readonly name: string;
  /** The forms of its command line, after `xy `. */
  readonly usage: readonly string[];
  /** One line for the overview. */
  readonly summary: string;
  /** What `xy <name> --help` says below the usage. */
  readonly help: string;
  /** Its options, besides those every command takes. */
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Options and positionals → the command; throws UsageError. Pure. */
  parse(args: Args): C;
  /** Carries it out; resolves with the exit code. */
  run(cmd: C, ctx: Context): Promise<number>;
}

/** A command with its parsed form bound, ready to run. */
export interface Invocation {
  readonly command: { readonly kind: string };
  run(ctx: Context): Promise<number>;
}

/** A command whose parsed form is hidden behind {@link Invocation}, so one table can hold all. */
export interface AnyCommand extends Omit<CommandSpec<{ kind: string }>, "parse" | "run"> {
  invoke(args: Args): Invocation;
}

/** Erases a command's parsed type, keeping parse and run paired. */
export function defineCommand<C extends { readonly kind: string }>(
  spec: CommandSpec<C>,
): AnyCommand {
  return {
    name: spec.name,
    usage: spec.usage,
    summary: spec.summary,
    help: spec.help,
    options: spec.options,
    invoke(args) {
      const command = spec.parse(args);
      return { command, run: (ctx) => spec.run(command, ctx) };
    },
  };
}

/** The options every command takes. */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  "config-dir": {
    type: "string",
    value: "DIR",
    help: "server configs (default $XDG_CONFIG_HOME/xy/servers; env XY_CONFIG_DIR)",
  },
  "state-dir": {
    type: "string",
    value: "DIR",
    help: "logs, pidfile (default $XDG_STATE_HOME/xy; env XY_STATE_DIR)",
  },
  socket: {
    type: "string",
    value: "PATH",
    help: "control socket (default $XDG_RUNTIME_DIR/xy/xy.sock; env XY_SOCKET)",
  },
  help: { type: "boolean", short: "h", help: "help for a command" },
};

/** Throws unless the command took no positionals. */
export function noPositionals(cmd: string, positionals: readonly string[]): void {
  if (positionals.length) throw new UsageError(`${cmd}: unexpected argument "${positionals[0]}"`);
}

/** A server name from the command line, checked. */
export function serverName(name: string): string {
  if (!isValidName(name)) {
    throw new UsageError(`bad server name "${name}": names match [a-z0-9_-]+`);
  }
  return name;
}
