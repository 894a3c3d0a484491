/**
 * `xy service install|uninstall|status`: writes, removes and inspects xy's
 * unit (unit.ts), and tells the service manager — `systemctl --user` on
 * Linux, `launchctl` on macOS — found on the PATH given. Where the manager
 * does not answer (no user session bus, a container), the file is still
 * written and the commands that remain are returned for the user to run.
 */
import { shellQuote } from "../shell.ts";
import { runCommand, type Step } from "./run_command.ts";

export type { Step };
import {
  isOurs,
  LAUNCHD_LABEL,
  launchdPlist,
  type ServiceSpec,
  SYSTEMD_UNIT,
  systemdUnit,
} from "./unit.ts";

/** Where and for whom the service is installed. */
export interface ServiceHost {
  /** `Deno.build.os`: linux → systemd, darwin → launchd. */
  readonly os: string;
  readonly home: string;
  /** `$XDG_CONFIG_HOME`, where systemd looks for user units too. */
  readonly configHome?: string | undefined;
  readonly uid: number;
  /** Where `systemctl` or `launchctl` is looked for. */
  readonly path: string;
}

/** What install or uninstall did, and what is left for the user. */
export interface ServiceReport {
  readonly file: string;
  /** What happened to the file. */
  readonly change: "created" | "updated" | "unchanged" | "removed" | "absent";
  readonly steps: readonly Step[];
  /** A command that ran and failed (the manager answered, and said no). */
  readonly failed: boolean;
  /** Commands for the user to run, when the manager did not answer. */
  readonly todo: readonly string[];
  readonly notes: readonly string[];
}

/** What `status` finds. */
export interface ServiceStatus {
  readonly manager: "systemd" | "launchd";
  readonly file: string;
  readonly installed: boolean;
  /** False for a file of that name xy did not write. */
  readonly ours: boolean;
  /** The manager's words: enabled/active, or loaded and its state; null when it did not answer. */
  readonly state: string | null;
}

/** Raised for a unit file of xy's name that xy did not write. */
export class ForeignUnitError extends Error {
  override readonly name = "ForeignUnitError";
}

/** Which manager, and the file it reads. */
export function serviceFile(host: ServiceHost): { manager: "systemd" | "launchd"; file: string } {
  if (host.os === "linux") {
    const config = host.configHome || `${host.home}/.config`;
    return { manager: "systemd", file: `${config}/systemd/user/${SYSTEMD_UNIT}` };
  }
  if (host.os === "darwin") {
    return { manager: "launchd", file: `${host.home}/Library/LaunchAgents/${LAUNCHD_LABEL}.plist` };
  }
  throw new Error(
    `service: only Linux (systemd) and macOS (launchd) are supported, not ${host.os}`,
  );
}

/**
 * Writes the unit and has it started at login — and now, unless `running`
 * says a daemon already runs (a second one would only fail on the lock):
 * then it is enabled for the next login, and the note says how to hand over.
 */
export async function installService(
  spec: ServiceSpec,
  host: ServiceHost,
  opts: { readonly running?: { readonly pid: number } } = {},
): Promise<ServiceReport> {
  const { manager, file } = serviceFile(host);
  const text = manager === "systemd" ? systemdUnit(spec) : launchdPlist(spec);
  const old = await readOurs(file);
  const change = old === null ? "created" : old === text ? "unchanged" : "updated";
  if (change !== "unchanged") await writeAtomically(file, text);
  const r = new Report(file, change, host);
  if (manager === "systemd") await r.systemdInstall(opts.running);
  else await r.launchdInstall(file, opts.running);
  return r.done();
}

/** Stops the service and removes its file, if it is xy's; a foreign one is refused. */
export async function uninstallService(host: ServiceHost): Promise<ServiceReport> {
  const { manager, file } = serviceFile(host);
  const old = await readOurs(file);
  const r = new Report(file, old === null ? "absent" : "removed", host);
  if (old === null) return r.done();
  if (manager === "systemd") {
    const disable = await r.step(["systemctl", "--user", "disable", "--now", SYSTEMD_UNIT], "soft");
    await Deno.remove(file);
    // Without systemd to ask, the link `enable` made is removed by hand, so none is left dangling.
    if (disable.code !== 0) await removeWantsLink(file, r);
    await r.step(["systemctl", "--user", "daemon-reload"], "soft");
  } else {
    await r.step(["launchctl", "bootout", `gui/${host.uid}/${LAUNCHD_LABEL}`], "soft");
    await Deno.remove(file);
  }
  return r.done();
}

/** Whether the unit is installed and xy's, and what the manager says of it. */
export async function serviceStatus(host: ServiceHost): Promise<ServiceStatus> {
  const { manager, file } = serviceFile(host);
  const text = await readText(file);
  const base = { manager, file, installed: text !== null, ours: text !== null && isOurs(text) };
  if (text === null) return { ...base, state: null };
  if (manager === "systemd") {
    const ask = async (verb: string) => {
      const s = await runCommand(host.path, ["systemctl", "--user", verb, SYSTEMD_UNIT]);
      // is-enabled reads unit files and answers without a session bus; is-active needs it.
      return s.code === null || !s.output || /Failed to connect|bus/i.test(s.output)
        ? null
        : s.output;
    };
    const enabled = await ask("is-enabled");
    const active = await ask("is-active");
    if (enabled === null && active === null) return { ...base, state: null };
    const unknown = "not known (systemctl --user did not answer)";
    return { ...base, state: `${enabled ?? unknown}, ${active ?? unknown}` };
  }
  const print = await runCommand(host.path, [
    "launchctl",
    "print",
    `gui/${host.uid}/${LAUNCHD_LABEL}`,
  ]);
  if (print.code === null) return { ...base, state: null };
  if (print.code !== 0) return { ...base, state: "not loaded" };
  const state = /^\s*state = (.+)$/m.exec(print.output)?.[1];
  const pid = /^\s*pid = (\d+)$/m.exec(print.output)?.[1];
  return { ...base, state: `loaded${state ? `, ${state}` : ""}${pid ? ` (pid ${pid})` : ""}` };
}

/** Collects the steps of one install or uninstall. */
class Report {
  readonly steps: Step[] = [];
  readonly todo: string[] = [];
  readonly notes: string[] = [];
  failed = false;

  constructor(
    readonly file: string,
    readonly change: ServiceReport["change"],
    readonly host: ServiceHost,
  ) {}

  /**
   * Runs a manager command. "check": whether the manager answers at all;
   * "must": a failure is a failure; "soft": a failure is only reported.
   */
  async step(command: string[], kind: "check" | "must" | "soft"): Promise<Step> {
    const s = await runCommand(this.host.path, command);
    this.steps.push(s);
    if (s.code !== 0 && kind === "must") this.failed = true;
    return s;
  }

  async systemdInstall(running: { readonly pid: number } | undefined) {
    const reload = await this.step(["systemctl", "--user", "daemon-reload"], "check");
    if (reload.code !== 0) {
      this.notes.push(`systemctl --user did not answer (${reload.output || "no output"})`);
      if (!running) {
        this.todo.push(
          "systemctl --user daemon-reload",
          `systemctl --user enable --now ${SYSTEMD_UNIT}`,
        );
        return;
      }
      // `enable --now` beside a running daemon would start a second one, which fails on
      // the lock, and Restart=on-failure would loop it: enable it, and hand over.
      this.todo.push("systemctl --user daemon-reload", `systemctl --user enable ${SYSTEMD_UNIT}`);
      this.notes.push(
        `a daemon systemd did not start runs now (pid ${running.pid}); once the commands below ` +
          `have run, systemd starts xy at your next login, or now after: ` +
          `xy daemon stop && systemctl --user start ${SYSTEMD_UNIT}`,
      );
      return;
    }
    if (!running) {
      await this.step(["systemctl", "--user", "enable", "--now", SYSTEMD_UNIT], "must");
      return;
    }
    await this.step(["systemctl", "--user", "enable", SYSTEMD_UNIT], "must");
    const active = await runCommand(this.host.path, [
      "systemctl",
      "--user",
      "is-active",
      SYSTEMD_UNIT,
    ]);
    if (active.output === "active") {
      if (this.change !== "unchanged") {
        this.notes.push(
          `systemd runs the daemon now (pid ${running.pid}): \`systemctl --user restart ${SYSTEMD_UNIT}\` ` +
            "applies the new unit, and restarts every server",
        );
      }
    } else {
      this.notes.push(
        `a daemon systemd did not start runs now (pid ${running.pid}); systemd starts xy at your next ` +
          `login, or now after: xy daemon stop && systemctl --user start ${SYSTEMD_UNIT}`,
      );
    }
  }

  async launchdInstall(file: string, running: { readonly pid: number } | undefined) {
    const target = `gui/${this.host.uid}`;
    const loaded = await runCommand(this.host.path, [
      "launchctl",
      "print",
      `${target}/${LAUNCHD_LABEL}`,
    ]);
    if (loaded.code === null) {
      this.notes.push(`launchctl did not answer (${loaded.output})`);
      this.todo.push(`launchctl bootstrap ${target} ${shellQuote(file)}`);
      return;
    }
    if (running) {
      const apply =
        `launchctl bootout ${target}/${LAUNCHD_LABEL} && launchctl bootstrap ${target} ${
          shellQuote(file)
        }`;
      this.notes.push(
        loaded.code === 0
          ? this.change === "unchanged"
            ? `launchd runs the daemon (pid ${running.pid})`
            : `launchd runs the daemon now (pid ${running.pid}): \`${apply}\` applies the new ` +
              "definition, and restarts every server"
          : `a daemon launchd did not start runs now (pid ${running.pid}); launchd starts xy at ` +
            `your next login, or now after: xy daemon stop && launchctl bootstrap ${target} ${
              shellQuote(file)
            }`,
      );
      return;
    }
    // A definition launchd holds is replaced only by booting it out first.
    if (loaded.code === 0) {
      await this.step(["launchctl", "bootout", `${target}/${LAUNCHD_LABEL}`], "soft");
    }
    await this.step(["launchctl", "bootstrap", target, file], "must");
  }

  done(): ServiceReport {
    return {
      file: this.file,
      change: this.change,
      steps: this.steps,
      failed: this.failed,
      todo: this.todo,
      notes: this.notes,
    };
  }
}

/** Removes `default.target.wants/xy.service` when it links to `file`. */
async function removeWantsLink(file: string, r: Report) {
  const link = `${file.slice(0, file.lastIndexOf("/"))}/default.target.wants/${SYSTEMD_UNIT}`;
  try {
    if ((await Deno.readLink(link)) !== file) return;
    await Deno.remove(link);
    r.notes.push(`removed ${link}`);
  } catch {
    // No such link, or not a link.
  }
}

/** The file's text when xy wrote it, null when there is none; throws for a foreign one. */
async function readOurs(file: string): Promise<string | null> {
  const text = await readText(file);
  if (text !== null && !isOurs(text)) {
    throw new ForeignUnitError(
      `${file} exists and was not written by xy: leaving it alone (move it away to install xy's)`,
    );
  }
  return text;
}

async function readText(file: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

async function writeAtomically(file: string, text: string) {
  await Deno.mkdir(file.slice(0, file.lastIndexOf("/")), { recursive: true });
  const tmp = `${file}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, text, { mode: 0o644 });
  await Deno.rename(tmp, file);
}
