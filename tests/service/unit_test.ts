import { assert, assertEquals } from "../assert.ts";
import {
  isOurs,
  launchdPlist,
  type ServiceSpec,
  systemdQuote,
  systemdUnit,
  xmlEscape,
} from "../../lib/service/unit.ts";

const FIXTURES = new URL("../fixtures/service/", import.meta.url);

/** A user whose paths need every kind of escaping: a space (%20 in the module URL), $, %, ", &, <. */
const SPEC: ServiceSpec = {
  argv: [
    "/home/ann/.deno/bin/deno",
    "run",
    "-A",
    "--v8-flags=--max-semi-space-size=1",
    "file:///home/ann/src/my%20xy/main.ts",
    "daemon",
    "--isolation",
    "inline",
    "--config-dir",
    "/home/ann/$work/xy servers",
    "--state-dir",
    "/home/ann/.local/state/xy",
    "--socket",
    "/run/user/1000/xy/xy.sock",
  ],
  env: {
    PATH: "/home/ann/.nvm/versions/node/v22.1.0/bin:/home/ann/100%$bin:/usr/bin:/bin",
    DENO_DIR: `/home/ann/.cache/deno "x" & <y>`,
  },
  outFile: "/home/ann/.local/state/xy/launchd.log",
};

Deno.test("service unit: the systemd user unit is the golden one", async () => {
  assertEquals(systemdUnit(SPEC), await Deno.readTextFile(new URL("xy.service", FIXTURES)));
});

Deno.test("service unit: the launchd agent is the golden one", async () => {
  assertEquals(
    launchdPlist(SPEC),
    await Deno.readTextFile(new URL("dev.xy.daemon.plist", FIXTURES)),
  );
});

Deno.test("service unit: both carry xy's marker; a file without it is not xy's", () => {
  assert(isOurs(systemdUnit(SPEC)));
  assert(isOurs(launchdPlist(SPEC)));
  assertEquals(isOurs("[Service]\nExecStart=/usr/bin/xy daemon\n"), false);
});

Deno.test("service unit: systemd words are quoted, with % and $ kept literal", () => {
  assertEquals(systemdQuote("a b"), `"a b"`);
  assertEquals(systemdQuote(`say "hi" \\ bye`), `"say \\"hi\\" \\\\ bye"`);
  assertEquals(systemdQuote("100%"), `"100%%"`);
  assertEquals(systemdQuote("$HOME"), `"$$HOME"`, "on a command line $ expands");
  assertEquals(systemdQuote("PATH=$HOME", false), `"PATH=$HOME"`, "in an assignment it does not");
  assertEquals(systemdQuote("two\nlines"), `"two\\nlines"`);
});

Deno.test("service unit: XML text is escaped", () => {
  assertEquals(
    xmlEscape(`<a href="x">Tom & Jerry's</a>`),
    "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&apos;s&lt;/a&gt;",
  );
});

const analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});

Deno.test({
  name: "service unit: systemd-analyze verify reads the unit's command line as written",
  // Only where systemd's own parser is installed (Linux with systemd).
  ignore: analyze === undefined,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const spec = { ...SPEC, argv: [`${dir}/no such % $exe`, "daemon"] };
      await Deno.writeTextFile(`${dir}/xy.service`, systemdUnit(spec));
      const out = await new Deno.Command(analyze!, {
        args: ["verify", `${dir}/xy.service`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const said = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
      // systemd unquoted the path exactly: it names the file that is not there, % and $ intact.
      assert(said.includes(`Command ${dir}/no such % $exe is not executable`), said);
      await Deno.writeTextFile(`${dir}/exe`, "#!/bin/sh\n", { mode: 0o755 });
      await Deno.writeTextFile(
        `${dir}/xy.service`,
        systemdUnit({ ...SPEC, argv: [`${dir}/exe`, "daemon"] }),
      );
      const ok = await new Deno.Command(analyze!, {
        args: ["verify", `${dir}/xy.service`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assertEquals(new TextDecoder().decode(ok.stderr), "");
      assertEquals(ok.code, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
