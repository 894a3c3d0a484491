import { assertEquals, assertMatch } from "../assert.ts";
import { checkSocketPath, dirname, resolvePaths, socketPathLimit } from "../../lib/daemon/paths.ts";

const env = (m: Record<string, string>) => (k: string) => m[k];

Deno.test("paths: flags beat XY_* beat XDG; the socket falls back to the state dir", () => {
  const env = (m: Record<string, string>) => (k: string) => m[k];
  const p = resolvePaths({}, env({ HOME: "/h" }));
  assertEquals([p.configDir, p.stateDir, p.socket], [
    "/h/.config/xy/servers",
    "/h/.local/state/xy",
    "/h/.local/state/xy/xy.sock",
  ]);
  const q = resolvePaths(
    {},
    env({ HOME: "/h", XDG_RUNTIME_DIR: "/run/u", XDG_CONFIG_HOME: "/cfg" }),
  );
  assertEquals([q.configDir, q.socket, q.lockFile], [
    "/cfg/xy/servers",
    "/run/u/xy/xy.sock",
    "/run/u/xy/xy.sock.lock",
  ]);
  const r = resolvePaths(
    { socket: "/f.sock" },
    env({ HOME: "/h", XY_SOCKET: "/e.sock", XY_STATE_DIR: "/st" }),
  );
  assertEquals([r.socket, r.stateDir, r.logDir], ["/f.sock", "/st", "/st/logs"]);
});

Deno.test("paths: relative overrides resolve against PWD; empty variables count as unset; trailing slashes go", () => {
  const p = resolvePaths(
    { configDir: "cfg/", stateDir: "./st" },
    env({ HOME: "/h", PWD: "/work", XDG_STATE_HOME: "", XY_SOCKET: "" }),
  );
  assertEquals([p.configDir, p.stateDir, p.socket, p.pidFile, p.daemonLog, p.pidDir], [
    "/work/cfg",
    "/work/st",
    "/work/st/xy.sock",
    "/work/st/xy.pid",
    "/work/st/daemon.log",
    "/work/st/pids",
  ]);
  assertEquals(resolvePaths({}, env({})).stateDir, "/.local/state/xy");
  assertEquals(resolvePaths({}, env({ HOME: "/h/" })).configDir, "/h/.config/xy/servers");
});

Deno.test("paths: a socket path past the platform limit is a clear error naming it", () => {
  assertEquals([socketPathLimit("linux"), socketPathLimit("darwin")], [107, 103]);
  const ok = "/" + "s".repeat(106);
  checkSocketPath(ok, "linux");
  let message = "";
  try {
    checkSocketPath(ok, "darwin");
  } catch (e) {
    message = (e as Error).message;
  }
  assertMatch(
    message,
    /^socket path is 107 bytes, longer than this platform's limit of 103: \/s+ \(set XY_SOCKET/,
  );
  assertEquals([dirname("/a/b.sock"), dirname("/b.sock"), dirname("b")], ["/a", "/", "/"]);
});
