import { assertEquals, assertRejects } from "../assert.ts";
import { loadConfigDir } from "../../lib/config/load.ts";
import { loadConfigDirIsolated } from "../../lib/config/load_isolated.ts";
import { ConfigError } from "../../lib/errors.ts";

Deno.test("load isolated: a worker loads what loadConfigDir loads, errors as ConfigErrors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const write = (name: string, text: string) =>
      Deno.writeTextFile(`${dir}/${name}`, text, { mode: 0o600 });
    await Deno.chmod(dir, 0o700);
    await write("alpha.kdl", 'command "sleep"\nargs "60"\nport 41001\n');
    await write("beta.kdl", 'command "sleep"\nport 41001\n');
    await write("broken.kdl", 'command "x"\nport "nope"\n');
    const keepPorts = new Set(["beta"]);
    const direct = await loadConfigDir(dir, { keepPorts });
    const isolated = await loadConfigDirIsolated(dir, { keepPorts });
    assertEquals(isolated.configs, direct.configs);
    assertEquals(isolated.invalid.map((f) => f.name).sort(), ["alpha", "broken"]);
    assertEquals(isolated.invalid, direct.invalid);
    for (const f of isolated.invalid) {
      for (const e of f.errors) assertEquals(e instanceof ConfigError, true, e.message);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("load isolated: a missing directory rejects with the reason", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.remove(dir);
  await assertRejects(() => loadConfigDirIsolated(dir), new RegExp(RegExp.escape(dir)));
});
