/**
 * `xy import` through the real CLI, from real files of each client under a
 * temp HOME (golden inputs in tests/fixtures/clients/, golden outputs in its
 * expected/): local servers become xy's, remote ones, taken names and
 * unfillable placeholders are named and skipped.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { denoDir, Sandbox } from "./harness.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const FIXTURES = `${ROOT}/tests/fixtures/clients`;
const deno = Deno.execPath();

/** A fixture with this machine's paths in it. */
async function fixture(name: string, vars: Record<string, string> = {}): Promise<string> {
  let text = await Deno.readTextFile(`${FIXTURES}/${name}`);
  for (const [k, v] of Object.entries({ DENO: deno, ROOT, ...vars })) {
    text = text.replaceAll(`@${k}@`, v);
  }
  return text;
}

/** Each client: its fixture, where its user file is under HOME, and what its entries come to. */
const CASES = {
  "claude-desktop": {
    fixture: "claude_desktop_config.json",
    path: ".config/Claude/claude_desktop_config.json",
    secret: "kept-as-written",
    skipped: [] as string[],
  },
  cursor: {
    fixture: "cursor.json",
    path: ".cursor/mcp.json",
    secret: "s3cret",
    skipped: ["github: a remote server", "secret: cannot fill ${env:XY_TEST_UNSET}"],
  },
  vscode: {
    fixture: "vscode.json",
    path: ".config/Code/User/mcp.json",
    secret: "s3cret",
    skipped: ["github: a remote server", "secret: cannot fill ${input:api_key}"],
  },
  "claude-code": {
    fixture: "claude.json",
    path: ".claude.json",
    secret: "s3cret",
    skipped: ["github: a remote server", "secret: cannot fill ${XY_TEST_UNSET}"],
  },
  windsurf: {
    fixture: "windsurf.json",
    path: ".codeium/windsurf/mcp_config.json",
    secret: "s3cret",
    skipped: ["github: a remote server", "secret: cannot fill ${env:XY_TEST_UNSET}"],
  },
  gemini: {
    fixture: "gemini.json",
    path: ".gemini/settings.json",
    secret: "s3cret",
    skipped: ["github: a remote server", "secret: cannot fill $XY_TEST_UNSET"],
  },
  codex: {
    fixture: "codex.toml",
    path: ".codex/config.toml",
    secret: "kept-as-written",
    skipped: ["github: a remote server"],
  },
};

/** The env of a CLI run under `home`: no daemon is started for an import. */
const envOf = (home: string) => ({
  HOME: home,
  DENO_DIR: denoDir(),
  XY_TEST_SECRET: "s3cret",
  XY_NO_AUTOSTART: "1",
  XDG_CONFIG_HOME: "",
});

for (const [client, c] of Object.entries(CASES)) {
  Deno.test(`import: from ${client}, each local server as a file; the rest named and skipped`, async () => {
    await using sb = await Sandbox.create();
    const home = `${sb.dir}/home`;
    const file = `${home}/${c.path}`;
    await Deno.mkdir(file.slice(0, file.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(file, await fixture(c.fixture));
    const before = await Deno.readTextFile(file);
    const r = await sb.cli(["import", "--from", client], envOf(home));
    assertEquals(r.code, 0, r.stderr);
    const ports: Record<string, string> = {};
    for (const name of ["notes", "my-browser"]) {
      const m = r.stdout.match(
        new RegExp(`^imported ${name}: ${sb.config}/${name}.kdl \\(port (\\d+)[;)]`, "m"),
      );
      assert(m, `${name} not imported:\n${r.stdout}`);
      ports[name] = m[1]!;
      const written = `${sb.config}/${name}.kdl`;
      assertEquals(
        await Deno.readTextFile(written),
        await fixture(`expected/${name}.kdl`, { FILE: file, PORT: m[1]!, SECRET: c.secret }),
      );
      assertEquals((await Deno.stat(written)).mode! & 0o777, 0o600, "env values are the user's");
    }
    assert(ports.notes !== ports["my-browser"]);
    assertMatch(r.stdout, /per-session: a browser for each client/);
    assertMatch(r.stdout, /note: "My Browser" is named my-browser\n/);
    const skipped = r.stdout.split("\n").filter((l) => l.startsWith("skipped "))
      .map((l) =>
        l.replace(/^skipped (\S+) \([^)]*\)/, "$1").replace(/ \(https:[^)]*\), nothing to run$/, "")
      );
    assertEquals(skipped, c.skipped);
    assertEquals(await Deno.readTextFile(file), before, "a client's file is only read");
    // Again: what exists is named, never written over.
    const again = await sb.cli(["import", "--from", client], envOf(home));
    assertEquals(again.code, 0, again.stderr);
    assertMatch(again.stdout, /^skipped notes \([^)]*\): "notes" exists already$/m);
    assertEquals(again.stdout.includes("imported "), false, again.stdout);
  });
}

Deno.test("import: --dry-run writes nothing; names pick entries; a project's file resolves its paths", async () => {
  await using sb = await Sandbox.create();
  const home = `${sb.dir}/home`;
  const project = `${sb.dir}/work`;
  await Deno.mkdir(`${project}/.cursor`, { recursive: true });
  await Deno.mkdir(home, { recursive: true });
  await Deno.writeTextFile(
    `${project}/.cursor/mcp.json`,
    JSON.stringify({
      mcpServers: {
        local: {
          command: "./bin/serve",
          args: ["${workspaceFolder}/data", "--home", "${userHome}"],
        },
        other: { command: "npx", args: ["-y", "other"] },
      },
    }),
  );
  const dry = await sb.cli(
    ["import", "--from", "cursor", "--project", project, "--dry-run", "local"],
    envOf(home),
  );
  assertEquals(dry.code, 0, dry.stderr);
  const text = dry.stdout.match(/^would write [^\n]*local\.kdl \(port (\d+)\):\n([\s\S]*?)\n\n/m);
  assert(text, dry.stdout);
  assertEquals(
    text[2],
    `// Imported by xy from ${project}/.cursor/mcp.json ("local").\n` +
      `command "${project}/bin/serve"\nargs "${project}/data" "--home" "${home}"\n` +
      `port ${text[1]}\nworking-dir "${project}"\ntransport "stdio"`,
  );
  assertEquals(dry.stdout.includes("other"), false, "only the entry named");
  assertEquals([...Deno.readDirSync(sb.config)], [], "a dry run writes nothing");
});

Deno.test("import: a file that does not parse is named with its line, and left alone", async () => {
  await using sb = await Sandbox.create();
  const home = `${sb.dir}/home`;
  await Deno.mkdir(`${home}/.cursor`, { recursive: true });
  await Deno.writeTextFile(`${home}/.cursor/mcp.json`, `{\n  "mcpServers": {\n    "a": [\n}\n`);
  const r = await sb.cli(["import", "--from", "cursor"], envOf(home));
  assertEquals(r.code, 1);
  assertMatch(
    r.stderr,
    new RegExp(`^xy: ${home}/.cursor/mcp.json:4:1: not JSON \\(\\w+\\); left as it is\n`),
  );
  const none = await sb.cli(["import", "--from", "windsurf"], envOf(home));
  assertEquals(none.code, 1);
  assertMatch(none.stderr, /no file .*mcp_config\.json/);
});
