/** `--help` text, written from the command table (pure). */
import type { AnyCommand, OptionSpec } from "./command.ts";
import { GLOBAL_OPTIONS } from "./command.ts";

const WIDTH = 24;

/** `  left   right`, with `right` on the next line when `left` is too long. */
function row(left: string, right: string): string {
  const l = `  ${left}`;
  if (!right) return l;
  return l.length < WIDTH - 1 ? `${l.padEnd(WIDTH)}${right}` : `${l}\n${" ".repeat(WIDTH)}${right}`;
}

function optionRows(options: Readonly<Record<string, OptionSpec>>): string[] {
  return Object.entries(options).filter(([, o]) => !o.hidden).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ""}--${name}${o.value ? ` ${o.value}` : ""}`;
    return row(flag, o.help);
  });
}

/** `xy --help`: every command with its summary, the common options and the exit codes. */
export function overview(table: readonly AnyCommand[]): string {
  const commands = table.flatMap((c) => c.usage.map((u, i) => row(u, i === 0 ? c.summary : "")));
  return [
    "xy — keeps your local MCP servers (and any long-running command) alive",
    "",
    "Usage: xy <command> [options]",
    "",
    "Commands:",
    ...commands,
    "",
    "Options on every command:",
    ...optionRows(GLOBAL_OPTIONS),
    row("-V, --version", "print the version"),
    "",
    "Client commands start the daemon in the background when none is running",
    "(XY_NO_AUTOSTART=1 turns that off).",
    "",
    "Exit codes: 0 ok, 1 operational error, 2 daemon unreachable, 3 config invalid, 64 usage error.",
  ].join("\n");
}

/** `xy <command> --help`. */
export function commandHelp(c: AnyCommand): string {
  const usage = c.usage.map((u, i) => `${i === 0 ? "Usage:" : "      "} xy ${u}`);
  const options = optionRows(c.options);
  return [
    ...usage,
    "",
    c.help,
    ...(options.length ? ["", "Options:", ...options] : []),
    "",
    "Every command also takes --config-dir, --state-dir and --socket (see xy --help).",
  ].join("\n");
}
