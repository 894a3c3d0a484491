/** A server config for supervisor tests: defaults but a quick backoff, overridable. */
import { DEFAULTS, type ServerConfig } from "../../lib/config/schema.ts";

/** The config of a server `name` running `command`, with a 10 ms backoff. */
export function serverConfig(
  name: string,
  run: { command: string; args: readonly string[] },
  extra: Partial<ServerConfig> = {},
): ServerConfig {
  return {
    name,
    file: `${name}.kdl`,
    command: run.command,
    args: run.args,
    port: 1,
    env: {},
    autostart: true,
    dependsOn: [],
    restart: { ...DEFAULTS.restart, backoffInitialMs: 10 },
    stop: { graceMs: 1000 },
    logs: DEFAULTS.logs,
    transport: "http",
    ...extra,
  };
}
