/**
 * `xy service` through the real CLI, against a temp HOME and fake
 * `systemctl`/`launchctl` on PATH that record their arguments.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { MAIN, Sandbox } from "../integration/harness.ts";
import { systemdQuote } from "../../lib/service/unit.ts";
import { DAEMON_V8_FLAGS } from "../../lib/cli/connect.ts";

/** Deno's cache as this test run has it, so the CLI under a temp HOME finds its packages. */
function denoDir(): string {
  const env = (n: string) => Deno.env.get(n);
  if (env("DENO_DIR")) return env("DENO_DIR")!;
  if (Deno.build.os === "darwin") return `${env("HOME")}/Library/Caches/deno`;
  return `${env("XDG_CACHE_HOME") || `${env("HOME")}/.cache`}/deno`;
}

async function setUp(sb: Sandbox) {
  const home = `${sb.dir}/home`;
  const bin = `${sb.dir}/bin`;
  await Deno.mkdir(home);
  await Deno.mkdir(bin);
  for (const name of ["systemctl", "launchctl"]) {
    await Deno.writeTextFile(
      `${bin}/${name}`,
      `#!/bin/sh\necho "${name} $*" >> "${sb.dir}/calls"\n` +
        `case "$*" in *is-enabled*) echo enabled;; *is-active*) echo inactive; exit 3;; *print*) exit 113;; esac\nexit 0\n`,
      { mode: 0o755 },
    );
  }
  const path = `${bin}:/usr/bin:/bin`;
  /** Runs `xy <args>` with nothing of this shell's environment but what is given here. */
  const xy = async (args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, ...args],
      clearEnv: true,
      env: {
        HOME: home,
        PATH: path,
        DENO_DIR: denoDir(),
        XY_CONFIG_DIR: sb.config,
        XY_STATE_DIR: sb.state,
        XY_SOCKET: sb.socket,
        XY_NO_AUTOSTART: "1",
        NO_COLOR: "1",
      },
      stdin: "null",
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  };
  const calls = async () => {
    const text = await Deno.readTextFile(`${sb.dir}/calls`).catch(() => "");
    await Deno.remove(`${sb.dir}/calls`).catch(() => {});
    return text.split("\n").filter(Boolean);
  };
  const file = Deno.build.os === "darwin"
    ? `${home}/Library/LaunchAgents/dev.xy.daemon.plist`
    : `${home}/.config/systemd/user/xy.service`;
  return { xy, calls, file, path };
}

Deno.test({
  name: "cli service: install runs this xy with its paths, isolation and PATH; status; uninstall",
  ignore: Deno.build.os !== "linux", // The unit checked here is systemd's; launchd's is tested in tests/service/.
  async fn() {
    await using sb = await Sandbox.create();
    const { xy, calls, file, path } = await setUp(sb);
    const install = await xy(["service", "install", "--isolation", "inline"]);
    assertEquals(install.stderr, "");
    assertEquals(install.code, 0);
    assertMatch(install.stdout, new RegExp(`^created ${file}\n`));
    assertMatch(install.stdout, /xy starts at login, and runs now\./);
    const unit = await Deno.readTextFile(file);
    const argv = [
      Deno.execPath(),
      "run",
      "-A",
      DAEMON_V8_FLAGS,
      new URL(`file://${MAIN}`).href,
      "daemon",
      "--isolation",
      "inline",
      "--config-dir",
      sb.config,
      "--state-dir",
      sb.state,
      "--socket",
      sb.socket,
    ];
    assert(
      unit.includes(`ExecStart=${argv.map((w, i) => systemdQuote(w, i > 0)).join(" ")}\n`),
      unit,
    );
    assert(unit.includes(`Environment=${systemdQuote(`PATH=${path}`, false)}\n`), unit);
    assertEquals(await calls(), [
      "systemctl --user daemon-reload",
      "systemctl --user enable --now xy.service",
    ]);

    const status = await xy(["service", "status"]);
    assertEquals(status.code, 0);
    assertEquals(status.stdout, `installed: ${file}\nsystemd: enabled, inactive\n`);
    await calls();

    const uninstall = await xy(["service", "uninstall"]);
    assertEquals(uninstall.code, 0);
    assertMatch(uninstall.stdout, new RegExp(`^removed ${file}\n`));
    assertEquals(await calls(), [
      "systemctl --user disable --now xy.service",
      "systemctl --user daemon-reload",
    ]);
    const after = await xy(["service", "status"]);
    assertEquals(after.code, 1);
    assertMatch(after.stdout, /^not installed/);
  },
});

Deno.test({
  name: "cli service: with a daemon running, install keeps its isolation and leaves it running",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using sb = await Sandbox.create();
    const { xy, calls, file } = await setUp(sb);
    const d = await sb.daemon({ XY_ISOLATION: "inline" });
    const install = await xy(["service", "install"]);
    assertEquals(install.code, 0, install.stderr);
    assert((await Deno.readTextFile(file)).includes(`"--isolation" "inline"`));
    assertMatch(
      install.stdout,
      new RegExp(`a daemon systemd did not start runs now \\(pid ${d.child.pid}\\)`),
    );
    assertEquals(await calls(), [
      "systemctl --user daemon-reload",
      "systemctl --user enable xy.service",
      "systemctl --user is-active xy.service",
    ]);
    assertEquals(d.exited, false);
  },
});

Deno.test("cli service: a unit xy did not write is refused, exit 1, and left as it was", async () => {
  await using sb = await Sandbox.create();
  const { xy, calls, file } = await setUp(sb);
  await Deno.mkdir(file.slice(0, file.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(file, "mine\n");
  const r = await xy(["service", "install"]);
  assertEquals(r.code, 1);
  assertEquals(
    r.stderr,
    `xy: ${file} exists and was not written by xy: leaving it alone (move it away to install xy's)\n`,
  );
  assertEquals(await Deno.readTextFile(file), "mine\n");
  assertEquals(await calls(), []);
  const u = await xy(["service", "uninstall"]);
  assertEquals(u.code, 1);
  assertEquals(await Deno.readTextFile(file), "mine\n");
});
