/**
 * `xy top` in a real terminal (tmux: a server of its own, a detached session
 * the test types into and reads from): the servers shown, a restart by `r`, a
 * stop by `s`, a log followed and left, a resize, the daemon going away, and
 * `q` giving the terminal back.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import type { StatusDetail } from "../../lib/protocol/types.ts";
import { freePort, Sandbox, waitFor } from "./harness.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

const hasTmux = (() => {
  try {
    return new Deno.Command("tmux", { args: ["-V"], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
})();

/** One tmux server of the test's own (so a user's sessions are never touched). */
class Tmux {
  readonly socket = `xy-test-${crypto.randomUUID().slice(0, 8)}`;

  async run(...args: string[]): Promise<string> {
    const out = await new Deno.Command("tmux", {
      args: ["-L", this.socket, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(`tmux ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
    return new TextDecoder().decode(out.stdout);
  }

  /** What the pane shows now, a line each. */
  screen(): Promise<string> {
    return this.run("capture-pane", "-p", "-t", "top");
  }

  /** Waits until the pane shows what `re` matches; the screen. */
  async see(re: RegExp, what: string): Promise<string> {
    let last = "";
    try {
      return await waitFor(what, async () => {
        last = await this.screen();
        return re.test(last) ? last : undefined;
      }, 20_000);
    } catch (e) {
      throw new Error(`${(e as Error).message}; the screen:\n${last}`);
    }
  }

  keys(...keys: string[]): Promise<string> {
    return this.run("send-keys", "-t", "top", ...keys);
  }

  async [Symbol.asyncDispose]() {
    await this.run("kill-server").catch(() => {});
  }
}

Deno.test({
  name:
    "top: in a real terminal, the servers live; r restarts, s stops, l follows a log, q gives the terminal back",
  // A terminal program is tested in a real terminal; .ci/run installs tmux where it can.
  ignore: !hasTmux,
  fn: async () => {
    await using sb = await Sandbox.create();
    await sb.writeConfig(
      "alpha",
      `command "sh"\nargs "-c" "echo alpha says hi; exec sleep 600"\nport ${freePort()}\n`,
    );
    await sb.writeConfig("beta", `command "sleep"\nargs "600"\nport ${freePort()}\n`);
    await sb.daemon();
    await waitFor("both running", async () => {
      const rows = await sb.call<{ state: string }[]>("list");
      return rows.every((r) => r.state === "running");
    });
    const env = Object.entries({ ...sb.env(), NO_COLOR: "1", TERM: "xterm-256color" })
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ");
    await using tmux = new Tmux();
    await tmux.run(
      "new-session",
      "-d",
      "-s",
      "top",
      "-x",
      "100",
      "-y",
      "30",
      `env ${env} ${
        JSON.stringify(Deno.execPath())
      } run -A ${MAIN} top; echo "EXITED $?"; sleep 600`,
    );
    let screen = await tmux.see(/xy top — 2 servers, 2 running/, "the list");
    assertMatch(screen, /^> alpha +running +- +\d+(\.\d)?% +\d+(\.\d)?[KMG] +0 +\d+s/m);
    assertMatch(screen, /^ {2}beta +running/m);
    // r: the selected server (alpha) restarts.
    const before = (await sb.call<StatusDetail>("status", { name: "alpha" })).pid;
    await tmux.keys("r");
    await tmux.see(/restarted alpha/, "the restart said");
    await waitFor("alpha's new process", async () => {
      const s = await sb.call<StatusDetail>("status", { name: "alpha" });
      return s.state === "running" && s.pid !== before;
    });
    // j, then s: beta is stopped.
    await tmux.keys("j", "s");
    await tmux.see(/^ {2}alpha[^\n]*\n> beta +stopped/m, "beta stopped, and selected");
    assertEquals((await sb.call<StatusDetail>("status", { name: "beta" })).state, "stopped");
    // k, then l: alpha's log; Esc: the list again.
    await tmux.keys("k", "l");
    await tmux.see(/xy top — alpha: running, its log[\s\S]*alpha says hi/, "alpha's log");
    await tmux.keys("Escape");
    await tmux.see(/xy top — 2 servers, 1 running/, "the list again");
    // A smaller window: drawn again to fit it.
    await tmux.run("resize-window", "-t", "top", "-x", "80", "-y", "24");
    screen = await tmux.see(/xy top — 2 servers, 1 running/, "the list at 80×24");
    for (const line of screen.split("\n")) assert([...line].length <= 80, line);
    // The daemon goes away: said, and q still gives the terminal back.
    await sb.cli(["daemon", "stop"]);
    await tmux.see(/the daemon does not answer/, "the daemon gone, said");
    await tmux.keys("q");
    screen = await tmux.see(/EXITED 0/, "top ended");
    assertEquals(screen.includes("xy top —"), false, "the alternate screen is gone");
  },
});

Deno.test("top: without a terminal it is a usage error", async () => {
  await using sb = await Sandbox.create();
  const r = await sb.cli(["top"]);
  assertEquals(r.code, 64);
  assertMatch(r.stderr, /^xy: top: needs a terminal/);
});
