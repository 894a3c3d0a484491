/**
 * install/uninstall/status against a temp HOME and fake `systemctl` and
 * `launchctl` on the PATH, which record their arguments and answer as told.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "../assert.ts";
import {
  ForeignUnitError,
  installService,
  type ServiceHost,
  serviceStatus,
  uninstallService,
} from "../../lib/service/manager.ts";
import { launchdPlist, type ServiceSpec, systemdUnit } from "../../lib/service/unit.ts";

const SPEC: ServiceSpec = {
  argv: ["/opt/xy/bin/xy", "daemon", "--socket", "/run/user/1000/xy/xy.sock"],
  env: { PATH: "/home/ann/.nvm/bin:/usr/bin:/bin" },
  outFile: "/home/ann/.local/state/xy/launchd.log",
};

/**
 * A temp HOME and a bin dir with a fake `systemctl` and `launchctl`: each
 * appends its argv to `calls`, prints the file `<dir>/say/<first arg>` and
 * exits with `<dir>/exit/<first arg>` (0 when absent).
 */
class FakeManagers implements AsyncDisposable {
  constructor(readonly dir: string) {}

  static async create(): Promise<FakeManagers> {
    const dir = await Deno.makeTempDir({ prefix: "xy-service" });
    for (const d of ["home", "bin", "say", "exit"]) await Deno.mkdir(`${dir}/${d}`);
    for (const name of ["systemctl", "launchctl"]) {
      // The first argument that is not --user names the verb.
      await Deno.writeTextFile(
        `${dir}/bin/${name}`,
        `#!/bin/sh
echo "${name} $*" >> "${dir}/calls"
verb=$1; [ "$verb" = --user ] && verb=$2
[ -f "${dir}/say/$verb" ] && cat "${dir}/say/$verb"
[ -f "${dir}/exit/$verb" ] && exit "$(cat "${dir}/exit/$verb")"
exit 0
`,
        { mode: 0o755 },
      );
    }
    return new FakeManagers(dir);
  }

  host(os: "linux" | "darwin", path = `${this.dir}/bin`): ServiceHost {
    return { os, home: `${this.dir}/home`, uid: 501, path };
  }

  /** `verb` prints `text` and exits `code`. */
  async answer(verb: string, code: number, text = "") {
    await Deno.writeTextFile(`${this.dir}/exit/${verb}`, String(code));
    await Deno.writeTextFile(`${this.dir}/say/${verb}`, text);
  }

  /** The calls recorded so far, and forgets them. */
  async calls(): Promise<string[]> {
    const text = await Deno.readTextFile(`${this.dir}/calls`).catch(() => "");
    await Deno.remove(`${this.dir}/calls`).catch(() => {});
    return text.split("\n").filter(Boolean);
  }

  get unit() {
    return `${this.dir}/home/.config/systemd/user/xy.service`;
  }

  get plist() {
    return `${this.dir}/home/Library/LaunchAgents/dev.xy.daemon.plist`;
  }

  async [Symbol.asyncDispose]() {
    await Deno.remove(this.dir, { recursive: true });
  }
}

Deno.test("service (systemd): install writes the unit, reloads systemd and enables it now; again, nothing changes", async () => {
  await using fake = await FakeManagers.create();
  const report = await installService(SPEC, fake.host("linux"));
  assertEquals(report.change, "created");
  assertEquals(report.failed, false);
  assertEquals(report.todo, []);
  assertEquals(await Deno.readTextFile(fake.unit), systemdUnit(SPEC));
  assertEquals((await Deno.stat(fake.unit)).mode! & 0o777, 0o644);
  assertEquals(await fake.calls(), [
    "systemctl --user daemon-reload",
    "systemctl --user enable --now xy.service",
  ]);
  assertEquals((await installService(SPEC, fake.host("linux"))).change, "unchanged");
  const newPath = { ...SPEC, env: { PATH: "/new/bin:/usr/bin" } };
  assertEquals((await installService(newPath, fake.host("linux"))).change, "updated");
  assertMatch(await Deno.readTextFile(fake.unit), /Environment="PATH=\/new\/bin:\/usr\/bin"/);
});

Deno.test("service (systemd): a unit xy did not write is neither replaced nor removed", async () => {
  await using fake = await FakeManagers.create();
  await Deno.mkdir(`${fake.dir}/home/.config/systemd/user`, { recursive: true });
  const theirs = "[Service]\nExecStart=/usr/local/bin/xy daemon\n";
  await Deno.writeTextFile(fake.unit, theirs);
  const e = await assertRejects(
    () => installService(SPEC, fake.host("linux")),
    /not written by xy/,
  );
  assert(e instanceof ForeignUnitError);
  await assertRejects(() => uninstallService(fake.host("linux")), /not written by xy/);
  assertEquals(await Deno.readTextFile(fake.unit), theirs);
  assertEquals(await fake.calls(), [], "systemd was not touched");
  const status = await serviceStatus(fake.host("linux"));
  assertEquals([status.installed, status.ours], [true, false]);
});

Deno.test("service (systemd): uninstall stops and disables the unit, removes it and reloads; without one, nothing", async () => {
  await using fake = await FakeManagers.create();
  await installService(SPEC, fake.host("linux"));
  await fake.calls();
  const report = await uninstallService(fake.host("linux"));
  assertEquals(report.change, "removed");
  assertEquals(await fake.calls(), [
    "systemctl --user disable --now xy.service",
    "systemctl --user daemon-reload",
  ]);
  await assertRejects(() => Deno.stat(fake.unit), /No such file/);
  assertEquals((await uninstallService(fake.host("linux"))).change, "absent");
  assertEquals(await fake.calls(), []);
});

Deno.test("service (systemd): where systemctl --user does not answer, the unit is written and the commands given", async () => {
  await using fake = await FakeManagers.create();
  await fake.answer("daemon-reload", 1, "Failed to connect to bus: No medium found");
  const report = await installService(SPEC, fake.host("linux"));
  assertEquals(report.failed, false);
  assertEquals(report.todo, [
    "systemctl --user daemon-reload",
    "systemctl --user enable --now xy.service",
  ]);
  assertMatch(report.notes[0]!, /did not answer \(Failed to connect to bus/);
  assertEquals(await Deno.readTextFile(fake.unit), systemdUnit(SPEC));
  // No systemctl at all: the same.
  const bare = await installService(SPEC, fake.host("linux", `${fake.dir}/nowhere`));
  assertEquals(bare.todo.length, 2);
  assertMatch(bare.notes[0]!, /systemctl is not on PATH/);
});

Deno.test("service (systemd): without a session bus and with a daemon running, the commands enable it and say how to hand over", async () => {
  await using fake = await FakeManagers.create();
  await fake.answer("daemon-reload", 1, "Failed to connect to bus: No medium found");
  const report = await installService(SPEC, fake.host("linux"), { running: { pid: 4242 } });
  assertEquals(report.todo, [
    "systemctl --user daemon-reload",
    "systemctl --user enable xy.service",
  ]);
  assertMatch(report.notes[1]!, /pid 4242.*next login.*xy daemon stop && systemctl --user start/);
});

Deno.test("service (systemd): enabling that fails is a failure, with systemd's words", async () => {
  await using fake = await FakeManagers.create();
  await fake.answer("enable", 1, "Failed to enable unit: Unit file xy.service is masked.");
  const report = await installService(SPEC, fake.host("linux"));
  assertEquals(report.failed, true);
  assertMatch(report.steps.at(-1)!.output, /masked/);
});

Deno.test("service (systemd): with a daemon running outside systemd, the unit is enabled for next login, not started", async () => {
  await using fake = await FakeManagers.create();
  await fake.answer("is-active", 3, "inactive");
  const report = await installService(SPEC, fake.host("linux"), { running: { pid: 4242 } });
  assertEquals(await fake.calls(), [
    "systemctl --user daemon-reload",
    "systemctl --user enable xy.service",
    "systemctl --user is-active xy.service",
  ]);
  assertMatch(report.notes[0]!, /pid 4242.*next login.*xy daemon stop && systemctl --user start/);
});

Deno.test("service (systemd): status says enabled and active, or not installed", async () => {
  await using fake = await FakeManagers.create();
  assertEquals((await serviceStatus(fake.host("linux"))).installed, false);
  await installService(SPEC, fake.host("linux"));
  await fake.answer("is-enabled", 0, "enabled");
  await fake.answer("is-active", 0, "active");
  const s = await serviceStatus(fake.host("linux"));
  assertEquals([s.installed, s.ours, s.state], [true, true, "enabled, active"]);
});

Deno.test("service (launchd): install writes the agent and bootstraps it; a loaded one is booted out first", async () => {
  await using fake = await FakeManagers.create();
  await fake.answer("print", 113, "Could not find service");
  const report = await installService(SPEC, fake.host("darwin"));
  assertEquals(report.change, "created");
  assertEquals(report.failed, false);
  assertEquals(await Deno.readTextFile(fake.plist), launchdPlist(SPEC));
  assertEquals(await fake.calls(), [
    "launchctl print gui/501/dev.xy.daemon",
    `launchctl bootstrap gui/501 ${fake.plist}`,
  ]);
  await fake.answer("print", 0, "state = running\n\tpid = 777\n");
  await installService({ ...SPEC, env: { PATH: "/new:/usr/bin" } }, fake.host("darwin"));
  assertEquals(await fake.calls(), [
    "launchctl print gui/501/dev.xy.daemon",
    "launchctl bootout gui/501/dev.xy.daemon",
    `launchctl bootstrap gui/501 ${fake.plist}`,
  ]);
  const s = await serviceStatus(fake.host("darwin"));
  assertEquals(s.state, "loaded, running (pid 777)");
});

Deno.test("service (launchd): uninstall boots it out and removes only xy's agent", async () => {
  await using fake = await FakeManagers.create();
  await installService(SPEC, fake.host("darwin"));
  await fake.calls();
  assertEquals((await uninstallService(fake.host("darwin"))).change, "removed");
  assertEquals(await fake.calls(), ["launchctl bootout gui/501/dev.xy.daemon"]);
  await assertRejects(() => Deno.stat(fake.plist), /No such file/);
  await Deno.writeTextFile(fake.plist, "<plist><dict/></plist>\n");
  await assertRejects(() => installService(SPEC, fake.host("darwin")), /not written by xy/);
  await assertRejects(() => uninstallService(fake.host("darwin")), /not written by xy/);
  assertEquals(await Deno.readTextFile(fake.plist), "<plist><dict/></plist>\n");
});

Deno.test("service (launchd): with a daemon running outside launchd, the agent waits for next login", async () => {
  await using fake = await FakeManagers.create();
  await fake.answer("print", 113, "Could not find service");
  const report = await installService(SPEC, fake.host("darwin"), { running: { pid: 99 } });
  assertEquals(await fake.calls(), ["launchctl print gui/501/dev.xy.daemon"]);
  assertMatch(report.notes[0]!, /pid 99.*next login.*launchctl bootstrap gui\/501/);
});

Deno.test("service: other systems are refused with a clear error", async () => {
  await using fake = await FakeManagers.create();
  await assertRejects(
    () => installService(SPEC, { ...fake.host("linux"), os: "windows" }),
    /only Linux \(systemd\) and macOS \(launchd\) are supported, not windows/,
  );
});

Deno.test("service (systemd): without a session bus, uninstall removes the unit and the link enable made; status says what it knows", async () => {
  await using fake = await FakeManagers.create();
  await installService(SPEC, fake.host("linux"));
  const wants = `${fake.dir}/home/.config/systemd/user/default.target.wants`;
  await Deno.mkdir(wants);
  await Deno.symlink(fake.unit, `${wants}/xy.service`);
  await fake.answer("is-enabled", 0, "enabled");
  await fake.answer("is-active", 1, "Failed to connect to bus: No medium found");
  const s = await serviceStatus(fake.host("linux"));
  assertEquals(s.state, "enabled, not known (systemctl --user did not answer)");
  await fake.answer("disable", 1, "Failed to connect to bus: No medium found");
  const report = await uninstallService(fake.host("linux"));
  assertEquals(report.notes, [`removed ${wants}/xy.service`]);
  await assertRejects(() => Deno.lstat(`${wants}/xy.service`), /No such file/);
  await assertRejects(() => Deno.stat(fake.unit), /No such file/);
});
