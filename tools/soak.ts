/**
 * A randomized soak of the real daemon and CLI: `deno task soak [--seconds N]
 * [--seed S] [--isolation worker|inline] [--servers N]`.
 *
 * In a temp sandbox it runs a mix of servers (sleepers, crashers, forkers,
 * processes that ignore SIGTERM, processes that leave their group with
 * `setsid`, a chatty logger with small rotated logs, a chain of dependencies,
 * a TCP-checked listener, and with `--mcp <command>` an MCP server checked
 * over streamable HTTP, e.g. `npx @modelcontextprotocol/server-everything`'s
 * `mcp-server-everything`) and, for the time given,
 * does what users and accidents do, at random: `start`, `stop` and `restart`
 * of some or `--all`, several at once; `kill -9` of a server's leader or of
 * one of its children; config edits, additions, removals and invalid files,
 * then `xy reload` or SIGHUP; `kill -9` of the daemon (the next CLI command
 * starts a new one, which must clean up after the old); `xy daemon stop`.
 *
 * Between actions it checks what must always hold (docs/ARCHITECTURE.md):
 * - the daemon answers `list` within 5 s, and never dies unless killed here;
 * - no CLI command hangs (30 s) or exits with a code other than 0, 1 or 3;
 * - no process of a run that is not its server's current run lives for more
 *   than {@link LEAK_MS} (a leftover group, a server running twice, an orphan
 *   after a daemon's death);
 * - after the last `xy daemon stop`, nothing it started is left.
 *
 * It prints every violation as it is found and exits 1 if there was any.
 */
import { connectDaemon, type DaemonClient } from "../lib/daemon/client.ts";
import { parseArgs } from "node:util";
import type { ServerSummary } from "../lib/protocol/types.ts";
import { parseEnviron, RUN_MARK, SERVER_MARK } from "../lib/process/markers.ts";
import { pollUntil } from "../lib/deadline.ts";

/** How long a process of a run that is not current may outlive it (grace 2 s + kill wait + margin). */
const LEAK_MS = 12_000;
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const MARK = "XY_SOAK_SANDBOX";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "120" },
    seed: { type: "string" },
    isolation: { type: "string", default: "worker" },
    servers: { type: "string", default: "12" },
    mcp: { type: "string" },
  },
});
const seconds = Number(values.seconds);
const seed = Number(values.seed ?? Math.floor(Math.random() * 2 ** 31));
const isolation = values.isolation === "inline" ? "inline" : "worker";
const fleet = Math.max(6, Number(values.servers));
/** An MCP server nobody here wrote, run over streamable HTTP with its `PORT` (e.g. server-everything). */
const mcpCommand = values.mcp;

/** mulberry32: the same seed gives the same run of choices. */
function prng(s: number) {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(seed);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const chance = (p: number) => rand() < p;

const dir = await Deno.makeTempDir({ prefix: "xy-soak" });
const paths = {
  config: `${dir}/config`,
  state: `${dir}/state`,
  socket: `${dir}/xy.sock`,
};
await Deno.mkdir(paths.config, { mode: 0o700 });
await Deno.chmod(paths.config, 0o700);
const env = {
  XY_CONFIG_DIR: paths.config,
  XY_STATE_DIR: paths.state,
  XY_SOCKET: paths.socket,
  XY_ISOLATION: isolation,
  [MARK]: dir,
  NO_COLOR: "1",
};

const violations: string[] = [];
const started = performance.now();
function note(msg: string) {
  const at = ((performance.now() - started) / 1000).toFixed(1);
  // deno-lint-ignore no-console -- a tool that reports on the terminal
  console.log(`[${at}s] ${msg}`);
}
function violation(msg: string) {
  violations.push(msg);
  note(`VIOLATION: ${msg}`);
}

// ---- The fleet ------------------------------------------------------------

let nextPort = 30_000 + Math.floor(rand() * 20_000);
const kinds = {
  sleeper: () => `command "sleep"\nargs "100000"\n`,
  crasher: () =>
    `command "sh"\nargs "-c" "sleep 0.${Math.floor(rand() * 9) + 1}; exit 3"\n` +
    `restart {\n  policy "always"\n  backoff-initial "100ms"\n  backoff-max "1s"\n  max-retries-per-minute 1000\n}\n`,
  forker: () => `command "sh"\nargs "-c" "sleep 100000 & sleep 100000 & echo forked; wait"\n`,
  stubborn: () =>
    `command "sh"\nargs "-c" "trap '' TERM; echo stubborn; while true; do sleep 0.2; done"\n` +
    `stop {\n  grace "${pick(["300ms", "1s", "2s"])}"\n}\n`,
  chatty: () =>
    `command "awk"\nargs "BEGIN { while (1) { print \\"line \\" i++; if (i % 2000 == 0) system(\\"sleep 0.05\\") } }"\n` +
    `logs {\n  max-size "64KiB"\n  keep 2\n}\n`,
  listener: () => `command "python3"\nargs "-m" "http.server" "--bind" "127.0.0.1" "{port}"\n`,
  escaper: () =>
    `command "sh"\nargs "-c" "setsid sleep 100000 < /dev/null > /dev/null 2>&1 & exec sleep 100000"\n`,
  mcp: () =>
    `command "${mcpCommand}"\nargs "streamableHttp"\nenv {\n  PORT "{port}"\n}\n` +
    `health {\n  mcp "/mcp"\n  interval "1s"\n  start-period "20s"\n}\n`,
} as const;
type Kind = keyof typeof kinds;

interface Server {
  name: string;
  kind: Kind;
  port: number;
  deps: string[];
  health: boolean;
  gen: number;
}
const servers = new Map<string, Server>();

function kdl(s: Server): string {
  let text = kinds[s.kind]().replaceAll("{port}", String(s.port));
  text += `port ${s.port}\n`;
  // A change of config that changes nothing else (for `mcp`, whose env block is taken: args).
  text = s.kind === "mcp"
    ? text.replace('args "streamableHttp"', `args "streamableHttp" "--soak-gen=${s.gen}"`)
    : text + `env {\n  SOAK_GEN "${s.gen}"\n}\n`;
  if (s.deps.length) text += `depends-on ${s.deps.map((d) => `"${d}"`).join(" ")}\n`;
  if (s.health) text += `health {\n  tcp\n  interval "500ms"\n  start-period "10s"\n}\n`;
  return text;
}

async function write(s: Server) {
  await Deno.writeTextFile(`${paths.config}/${s.name}.kdl`, kdl(s), { mode: 0o600 });
}

function add(kind: Kind, deps: string[] = [], health = false): Server {
  const name = `${kind}-${servers.size}-${Math.floor(rand() * 1000)}`;
  const s = { name, kind, port: nextPort++, deps, health, gen: 0 };
  servers.set(name, s);
  return s;
}

const db = add("sleeper");
const api = add("forker", [db.name]);
add("sleeper", [api.name]);
add("listener", [], true);
add("chatty");
add("stubborn");
add("escaper");
if (mcpCommand) add("mcp");
while (servers.size < fleet) {
  add(pick(["sleeper", "crasher", "forker", "stubborn", "escaper"] as const));
}
for (const s of servers.values()) await write(s);

// ---- Processes -------------------------------------------------------------

interface Proc {
  pid: number;
  ppid: number;
  pgrp: number;
  start: number;
  run?: string;
  server?: string;
  zombie: boolean;
}

/** Every live process that belongs to this sandbox (its env carries the mark), but the daemon. */
async function sandboxProcs(): Promise<Proc[]> {
  const out: Proc[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const environ = parseEnviron(await Deno.readFile(`/proc/${e.name}/environ`));
      if (environ.get(MARK) !== dir) continue;
      const stat = await Deno.readTextFile(`/proc/${e.name}/stat`);
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const run = environ.get(RUN_MARK);
      const server = environ.get(SERVER_MARK);
      out.push({
        pid: Number(e.name),
        ppid: Number(f[1]),
        pgrp: Number(f[2]),
        start: Number(f[19]),
        zombie: f[0] === "Z",
        ...(run ? { run } : {}),
        ...(server ? { server } : {}),
      });
    } catch {
      // Gone, or a zombie without environment.
    }
  }
  return out;
}

// ---- The daemon -------------------------------------------------------------

let client: DaemonClient | null = null;
let daemonPid = 0;
/** Set while this soak has killed or stopped the daemon on purpose. */
let daemonDownOnPurpose = false;

/** Closes the connection, as the daemon is about to go away on purpose. */
function dropClient() {
  daemonDownOnPurpose = true;
  client?.close();
  client = null;
}

async function connect(): Promise<DaemonClient | null> {
  try {
    const c = await connectDaemon(paths.socket);
    const info = await withTimeout(c.call("daemon_info"), 5_000, "daemon_info");
    if (daemonPid && info.pid !== daemonPid && !daemonDownOnPurpose) {
      violation(`the daemon changed from pid ${daemonPid} to ${info.pid} without being killed`);
    }
    daemonPid = info.pid;
    daemonDownOnPurpose = false;
    return c;
  } catch {
    return null;
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function list(): Promise<ServerSummary[] | null> {
  if (!client) client = await connect();
  if (!client) return null;
  try {
    return await withTimeout(client.call("list"), 5_000, "list");
  } catch (e) {
    client.close();
    client = null;
    if (!daemonDownOnPurpose) {
      if (String(e).includes("no answer")) violation(`list: ${String(e)}`);
      else if (!(await connect())) violation(`the daemon went away: ${String(e)}`);
    }
    return null;
  }
}

/** Runs the real CLI; a hang or an unexpected exit code is a violation. */
async function cli(args: string[], ok: number[] = [0, 1]): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<"hung">((r) => timer = setTimeout(() => r("hung"), 30_000));
  const out = await Promise.race([child.output(), hung]);
  clearTimeout(timer);
  if (out === "hung") {
    violation(`xy ${args.join(" ")} hung for 30 s`);
    child.kill("SIGKILL");
    await child.output();
    return -1;
  }
  const stderr = new TextDecoder().decode(out.stderr).trim();
  if (!ok.includes(out.code) && !interrupted) {
    violation(`xy ${args.join(" ")} exited ${out.code}: ${stderr.split("\n")[0] ?? ""}`);
  }
  if (/uncaught|internal error|stack|TypeError|RangeError/i.test(stderr)) {
    violation(`xy ${args.join(" ")} printed: ${stderr.split("\n").slice(0, 3).join(" | ")}`);
  }
  return out.code;
}

// ---- Checks -----------------------------------------------------------------

/** Processes of a run that is not current, with when they were first seen so. */
const suspects = new Map<string, { since: number; what: string }>();

async function check() {
  const rows = await list();
  if (!rows) return;
  const procs = await sandboxProcs();
  const rowsAfter = await list();
  if (!rowsAfter) return;
  // A run is current when its server's leader (in either listing) carries it.
  const current = new Set<string>();
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  for (const r of [...rows, ...rowsAfter]) {
    const leader = r.pid === undefined ? undefined : byPid.get(r.pid);
    if (leader?.run && leader.server === r.name) current.add(leader.run);
  }
  const now = performance.now();
  const seen = new Set<string>();
  for (const p of procs) {
    if (!p.run || p.zombie || p.pid === daemonPid) continue;
    if (current.has(p.run)) continue;
    const key = `${p.pid}/${p.start}`;
    seen.add(key);
    const s = suspects.get(key);
    const what = `pid ${p.pid} (server ${p.server}, run ${p.run.slice(0, 8)}, group ${p.pgrp}, ` +
      `parent ${p.ppid})`;
    if (!s) suspects.set(key, { since: now, what });
    else if (now - s.since > LEAK_MS) {
      violation(`left behind for ${((now - s.since) / 1000).toFixed(0)} s: ${what}`);
      suspects.set(key, { since: Infinity, what });
    }
  }
  for (const key of suspects.keys()) if (!seen.has(key)) suspects.delete(key);
}

// ---- Actions ------------------------------------------------------------------

const names = () => [...servers.keys()];
const some = () => {
  const all = names();
  return Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(all));
};

async function livePids(): Promise<ServerSummary[]> {
  return (await list() ?? []).filter((r) => r.pid !== undefined);
}

const actions: [number, string, () => Promise<unknown>][] = [
  [10, "start some", () => cli(["start", ...new Set(some())])],
  [8, "stop some", async () => {
    const names = [...new Set(some())];
    if (await cli(["stop", ...names]) === 0) await stoppedAll(names);
  }],
  [8, "restart some", () => cli(["restart", ...new Set(some())])],
  [2, "start --all", () => cli(["start", "--all"])],
  [2, "stop --all", async () => {
    if (await cli(["stop", "--all"]) === 0) await stoppedAll(names());
  }],
  [2, "restart --all", () => cli(["restart", "--all"])],
  [
    4,
    "several at once",
    () =>
      Promise.all(Array.from({ length: 3 + Math.floor(rand() * 3) }, () => {
        const verb = pick(["start", "stop", "restart", "list", "status"]);
        if (verb === "list") return cli(["list"]);
        if (verb === "status") return cli(["status", pick(names())]);
        return cli([verb, ...new Set(some())]);
      })),
  ],
  [
    3,
    "logs --tail",
    () => cli(["logs", pick(names()), "--tail", String(Math.floor(rand() * 500))]),
  ],
  [3, "follow logs for a while", async () => {
    const follower = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "logs", pick(names()), "-f"],
      env,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    await new Promise((r) => setTimeout(r, 500 + rand() * 2_500));
    try {
      follower.kill("SIGINT");
    } catch { /* exited already: a removed server ends its followers */ }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const out = await Promise.race([
      follower.output(),
      new Promise<null>((r) => timer = setTimeout(() => r(null), 5_000)),
    ]);
    clearTimeout(timer);
    if (out === null) {
      violation("xy logs -f did not exit within 5 s of SIGINT");
      follower.kill("SIGKILL");
      await follower.output();
    } else if (/uncaught|TypeError|RangeError/i.test(new TextDecoder().decode(out.stderr))) {
      violation(`xy logs -f printed: ${new TextDecoder().decode(out.stderr).slice(0, 300)}`);
    }
  }],
  [8, "kill -9 a leader", async () => {
    const rows = await livePids();
    if (!rows.length) return;
    const r = pick(rows);
    try {
      Deno.kill(r.pid!, "SIGKILL");
    } catch { /* gone */ }
  }],
  [4, "kill -9 a member of a group", async () => {
    const procs = (await sandboxProcs()).filter((p) => p.run && p.pid !== p.pgrp && !p.zombie);
    if (!procs.length) return;
    try {
      Deno.kill(pick(procs).pid, "SIGKILL");
    } catch { /* gone */ }
  }],
  [5, "edit a config and reload", async () => {
    const s = servers.get(pick(names()))!;
    s.gen++;
    await write(s);
    await reload();
  }],
  [3, "add a server and reload", async () => {
    const s = add(pick(["sleeper", "crasher", "forker", "stubborn", "escaper"] as const));
    await write(s);
    await reload();
  }],
  [3, "remove a server and reload", async () => {
    const dependedOn = new Set([...servers.values()].flatMap((s) => s.deps));
    const free = names().filter((n) => !dependedOn.has(n));
    if (free.length <= 4) return;
    const name = pick(free);
    servers.delete(name);
    await Deno.remove(`${paths.config}/${name}.kdl`);
    await reload();
  }],
  [2, "an invalid file, reload, then fixed", async () => {
    const s = servers.get(pick(names()))!;
    await Deno.writeTextFile(`${paths.config}/${s.name}.kdl`, `command "sleep"\nport "x"\n`);
    await cli(["reload"], [3]);
    await write(s);
    await reload();
  }],
  [2, "kill -9 the daemon", async () => {
    if (!daemonPid) return;
    dropClient();
    try {
      Deno.kill(daemonPid, "SIGKILL");
    } catch { /* gone */ }
    // The next client command starts a new daemon, which must sweep the old one's children.
    await pollUntil(() => !isAlive(daemonPid) || undefined, { timeoutMs: 5_000 });
    await cli(["list"]);
  }],
  [2, "kill -9 the daemon in the middle of a command", async () => {
    if (!daemonPid) return;
    const pid = daemonPid;
    const verb = pick(["stop", "restart", "start", "reload"]);
    const args = verb === "reload" ? ["reload"] : [verb, chance(0.5) ? "--all" : pick(names())];
    // The command may fail (exit 1) or go to the next daemon; it must not hang or crash.
    const running = cli(args, [0, 1, 2, 3]);
    await new Promise((r) => setTimeout(r, 100 + rand() * 400));
    dropClient();
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* gone */ }
    await running;
    await pollUntil(() => !isAlive(pid) || undefined, { timeoutMs: 5_000 });
    await cli(["list"]);
  }],
  [2, "freeze the daemon (SIGSTOP) for a while, a command waiting on it", async () => {
    if (!daemonPid) return;
    const pid = daemonPid;
    Deno.kill(pid, "SIGSTOP");
    const waiting = cli(["list"], [0, 1, 2]);
    await new Promise((r) => setTimeout(r, 500 + rand() * 2_500));
    Deno.kill(pid, "SIGCONT");
    await waiting;
  }],
  [1, "xy daemon stop, then start", async () => {
    dropClient();
    await cli(["daemon", "stop"]);
    await cli(["daemon", "start"]);
  }],
];

/**
 * After `xy stop` said so, nothing of `names` runs: its groups are gone at once, and
 * what left them within a sweep (a second) — three seconds allowed for both.
 */
async function stoppedAll(names: readonly string[]) {
  const stopped = new Set(names);
  const left = () =>
    sandboxProcs().then((ps) => ps.filter((p) => !p.zombie && p.server && stopped.has(p.server)));
  if (await pollUntil(async () => (await left()).length === 0 || undefined, { timeoutMs: 3_000 })) {
    return;
  }
  const procs = await left();
  if (procs.length) {
    violation(
      `still running 3 s after xy stop returned: ${
        procs.map((p) => `pid ${p.pid} (${p.server})`).join(", ")
      }`,
    );
  }
}

async function reload() {
  if (chance(0.3) && daemonPid) {
    Deno.kill(daemonPid, "SIGHUP");
    // Nothing says when a SIGHUP's reload is done; let it be, so the next action does not race it.
    await new Promise((r) => setTimeout(r, 1_500));
    return;
  }
  await cli(["reload"], [0, 1]);
}

function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

function chooseAction() {
  const total = actions.reduce((n, [w]) => n + w, 0);
  let x = rand() * total;
  for (const a of actions) {
    x -= a[0];
    if (x < 0) return a;
  }
  return actions[0]!;
}

// ---- The run ----------------------------------------------------------------

// Ctrl-C ends the run early, still with the final checks and the cleanup.
let interrupted = false;
Deno.addSignalListener("SIGINT", () => {
  interrupted = true;
});
note(`soak: seed ${seed}, ${seconds} s, ${isolation} hosting, ${servers.size} servers, in ${dir}`);
let code = 0;
try {
  await cli(["daemon", "start"]);
  const deadline = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < deadline && !interrupted) {
    const [, what, act] = chooseAction();
    note(`${++n}: ${what}`);
    await act();
    const pause = Math.floor(rand() * 1500);
    const until = performance.now() + pause;
    do {
      await check();
      await new Promise((r) => setTimeout(r, 100));
    } while (performance.now() < until && !interrupted);
  }
  // Let the leftovers of the last actions go, then check once more for a whole leak window.
  const settleUntil = performance.now() + LEAK_MS + 2_000;
  while (performance.now() < settleUntil && !interrupted) {
    await check();
    await new Promise((r) => setTimeout(r, 250));
  }
  dropClient();
  await cli(["daemon", "stop"], [0]);
  const left = await pollUntil(async () => {
    const procs = (await sandboxProcs()).filter((p) => !p.zombie);
    return procs.length === 0 || undefined;
  }, { timeoutMs: 15_000 });
  if (!left) {
    const procs = (await sandboxProcs()).filter((p) => !p.zombie);
    violation(
      `after daemon stop, left: ${
        procs.map((p) => `pid ${p.pid} (${p.server ?? "?"}, parent ${p.ppid})`).join(", ")
      }`,
    );
  }
} catch (e) {
  violation(`the soak itself failed: ${e instanceof Error ? e.stack : String(e)}`);
} finally {
  dropClient();
  for (const p of await sandboxProcs()) {
    try {
      Deno.kill(p.pid, "SIGKILL");
    } catch { /* gone */ }
  }
  const log = await Deno.readTextFile(`${paths.state}/daemon.log`).catch(() => "");
  const errors = log.split("\n").filter((l) => / (ERROR|WARN) /.test(l));
  const kinds = new Map<string, number>();
  for (const l of errors) {
    const key = l.replace(/^\S+ /, "").replace(/server=\S+/, "server=…").replace(
      /XY_RUN=\w+/,
      "XY_RUN=…",
    )
      .replace(/\d+/g, "N")
      .slice(0, 140);
    kinds.set(key, (kinds.get(key) ?? 0) + 1);
  }
  note(`daemon.log: ${errors.length} warnings and errors, by kind:`);
  for (const [k, v] of [...kinds].sort((a, b) => b[1] - a[1])) note(`  ${v} × ${k}`);
  if (violations.length) {
    note(`${violations.length} violation(s); seed ${seed}; sandbox kept in ${dir}`);
    code = 1;
  } else {
    note(`no violation; seed ${seed}`);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
Deno.exit(code);
