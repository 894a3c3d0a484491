/**
 * `xy service install|uninstall|status`: the daemon started at login by the
 * user's service manager (lib/service/), running this same xy — the compiled
 * binary, or deno with this module — with the paths, isolation and PATH of
 * the user who installs it.
 */
import type { Paths } from "../daemon/paths.ts";
import { ExitCode } from "../protocol/failures.ts";
import { UsageError } from "./usage_error.ts";
import {
  installService,
  type ServiceHost,
  type ServiceReport,
  serviceStatus,
  uninstallService,
} from "../service/manager.ts";
import type { ServiceSpec } from "../service/unit.ts";
import { shellLine } from "../shell.ts";
import { type AnyCommand, defineCommand } from "./command.ts";
import { connectIfRunning, daemonArgv, pathFlags } from "./connect.ts";
import { type Isolation, isolationOf } from "./daemon_command.ts";
import type { Io } from "./io.ts";

/** What `xy service` was asked to do. */
export type ServiceAction = "install" | "uninstall" | "status";

/** Runs one `xy service` action; returns the exit code. */
export async function service(
  cmd: { readonly action: ServiceAction; readonly isolation?: Isolation },
  ctx: { readonly paths: Paths; readonly io: Io },
): Promise<number> {
  const { io, paths } = ctx;
  const host = hostOf(io);
  switch (cmd.action) {
    case "install": {
      const running = await runningDaemon(paths);
      const isolation = cmd.isolation ??
        (io.env("XY_ISOLATION") !== undefined
          ? isolationOf(undefined, io.env)
          : running?.isolation);
      const spec = serviceSpec(paths, io, isolation);
      if (Deno.build.os === "darwin") {
        // launchd appends the daemon's output to a file in the state dir.
        await Deno.mkdir(paths.stateDir, { recursive: true, mode: 0o700 });
      }
      const report = await installService(spec, host, running ? { running } : {});
      io.out(`${report.change} ${report.file}\n  runs: ${shellLine(spec.argv)}\n`);
      printReport(report, io);
      if (/\/_npx\/|\/\.npm\//.test(spec.argv[0]!)) {
        io.out(
          `note: ${spec.argv[0]} is in npm's cache, which npm may clean: the service would then ` +
            "fail to start; install Deno (or the xy binary) for good and run this again\n",
        );
      }
      if (!report.failed && report.todo.length === 0 && !running) {
        io.out("xy starts at login, and runs now.\n");
      }
      return report.failed ? ExitCode.Error : ExitCode.Ok;
    }
    case "uninstall": {
      const report = await uninstallService(host);
      io.out(
        report.change === "absent"
          ? `not installed: no ${report.file}\n`
          : `removed ${report.file}\n`,
      );
      printReport(report, io);
      return ExitCode.Ok;
    }
    case "status": {
      const s = await serviceStatus(host);
      if (!s.installed) {
        io.out(`not installed (no ${s.file}); xy service install starts xy at login\n`);
        return ExitCode.Error;
      }
      if (!s.ours) {
        io.out(`${s.file} exists but was not written by xy\n`);
        return ExitCode.Error;
      }
      const state = s.state ?? `${s.manager === "systemd" ? "systemctl --user" : "launchctl"} ` +
          "did not answer";
      io.out(`installed: ${s.file}\n${s.manager}: ${state}\n`);
      return ExitCode.Ok;
    }
  }
}

/** The unit's command line and environment. */
export function serviceSpec(
  paths: Paths,
  io: Io,
  isolation: Isolation | undefined,
): ServiceSpec {
  const path = io.env("PATH");
  if (!path) throw new UsageError("service install: PATH is not set, and the unit records it");
  const argv = daemonArgv();
  const denoDir = io.env("DENO_DIR");
  return {
    argv: [
      Deno.execPath(),
      ...argv,
      ...(isolation ? ["--isolation", isolation] : []),
      ...pathFlags(paths),
    ],
    // A deno that runs the module needs the cache it was installed from.
    env: { PATH: path, ...(denoDir && argv[0] === "run" ? { DENO_DIR: denoDir } : {}) },
    outFile: `${paths.stateDir}/launchd.log`,
  };
}

function hostOf(io: Io): ServiceHost {
  const home = io.env("HOME");
  if (!home) throw new UsageError("service: HOME is not set");
  return {
    os: Deno.build.os,
    home,
    configHome: io.env("XDG_CONFIG_HOME"),
    uid: Deno.uid() ?? 0,
    path: io.env("PATH") ?? "",
  };
}

/** The daemon answering on `paths`, if one does (none is started for this). */
async function runningDaemon(paths: Paths) {
  const running = await connectIfRunning(paths);
  await running?.client.close();
  return running ? { pid: running.info.pid, isolation: running.info.isolation } : undefined;
}

function printReport(report: ServiceReport, io: Io) {
  for (const s of report.steps) {
    const how = s.code === 0 ? "" : s.code === null ? " (could not run)" : ` (exit ${s.code})`;
    io.out(`ran: ${shellLine(s.command)}${how}\n`);
    if (s.code !== 0 && s.output) io.out(`  ${s.output.split("\n").join("\n  ")}\n`);
  }
  for (const n of report.notes) io.out(`note: ${n}\n`);
  if (report.todo.length) {
    io.out(`run these yourself:\n${report.todo.map((t) => `  ${t}\n`).join("")}`);
  }
}

/** `xy service`, for the command table. */
export const serviceCommand: AnyCommand = defineCommand({
  name: "service",
  usage: ["service install [--isolation worker|inline]", "service uninstall|status"],
  summary: "start the daemon at login (systemd user unit, launchd agent)",
  help: `xy service install     start xy at login, and now: a systemd user unit on Linux
                       (~/.config/systemd/user/xy.service), a launchd agent on macOS
                       (~/Library/LaunchAgents/dev.xy.daemon.plist)
xy service uninstall   stop it and remove the file
xy service status      installed or not, and what the service manager says

The unit runs this same xy with the paths and isolation in use now, and records
your current PATH: a service manager's own PATH lacks what npx, uvx or an
nvm-installed node need. Install again after PATH changes. A file of that name
that xy did not write is never replaced or removed. Where systemctl --user or
launchctl does not answer, the file is written and the commands are printed.
If a daemon runs already, it is left running and the service takes over at
next login. status exits 1 when xy's service is not installed.`,
  options: {
    isolation: {
      type: "string",
      value: "worker|inline",
      help: "the hosting the service's daemon uses (default: XY_ISOLATION, else the running " +
        "daemon's)",
    },
  },
  parse: ({ values, positionals }) => {
    const action = positionals[0];
    if (
      positionals.length !== 1 || !["install", "uninstall", "status"].includes(action!)
    ) {
      throw new UsageError(
        `service: unknown action "${
          positionals.join(" ")
        }" (expected install, uninstall or status)`,
      );
    }
    const isolation = values.isolation;
    if (isolation !== undefined && isolation !== "worker" && isolation !== "inline") {
      throw new UsageError(`service: --isolation takes worker or inline, found "${isolation}"`);
    }
    if (isolation !== undefined && action !== "install") {
      throw new UsageError(`service: --isolation goes with install`);
    }
    return {
      kind: "service",
      action: action as ServiceAction,
      ...(isolation === undefined ? {} : { isolation: isolation as Isolation }),
    };
  },
  run: (cmd, ctx) => service(cmd, ctx),
});
