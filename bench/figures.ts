/** The benchmark's figures: what each measures, its target, and one run of it. */
import type { StatusDetail } from "../lib/protocol/types.ts";
import { type Bench, BenchDaemon, rssMb } from "./sandbox.ts";
import { pollUntil } from "../lib/deadline.ts";
import {
  EchoServer,
  HttpSession,
  medianP99,
  roundTrips,
  StdioSession,
  Supergateway,
} from "./bridge.ts";
import { STDIO_SERVER } from "./bridge.ts";

/** One measured value's unit and target. */
export interface Measure {
  readonly unit: string;
  readonly target: string;
}

/** A figure: its measures, and one run that yields a value for each. */
export interface Figure {
  readonly measures: Readonly<Record<string, Measure>>;
  run(bench: Bench): Promise<Record<string, number>>;
}

let nextPort = 20_000 + Math.floor(Math.random() * 20_000);
const port = () => nextPort++;

/** The names {@link sleepers} gives `count` servers. */
function sleeperNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `s${i}`);
}

/** `count` idle servers named s0…, `autostart` as given. */
function sleepers(count: number, extra = ""): Record<string, string> {
  return Object.fromEntries(
    sleeperNames(count).map((name) => [
      name,
      `command "sleep"\nargs "100000"\nport ${port()}\n${extra}`,
    ]),
  );
}

async function allRunning(d: BenchDaemon, count: number): Promise<boolean> {
  const rows = await d.rpc.call("list");
  return rows.filter((r) => r.state === "running").length === count;
}

/** RSS of `pid` once it held within 0.5 MB for 6 s, read every 250 ms (at most 40 s). */
export async function settledRssMb(pid: number): Promise<number> {
  const window = 24;
  const seen: number[] = [];
  const deadline = performance.now() + 40_000;
  while (performance.now() < deadline) {
    seen.push(await rssMb(pid));
    const last = seen.slice(-window);
    if (last.length === window && Math.max(...last) - Math.min(...last) < 0.5) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return seen.at(-1)!;
}

/** The median time `fn` takes, in ms, over `n` calls one after the other. */
async function medianMs(n: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Runs `body` on a started daemon with `configs`, and stops it whatever happens. */
async function withDaemon<T>(
  bench: Bench,
  configs: Record<string, string>,
  body: (d: BenchDaemon) => Promise<T>,
): Promise<T> {
  const d = await BenchDaemon.create(bench, configs);
  try {
    await d.start();
    return await body(d);
  } finally {
    await d.stop();
  }
}

export const LINES = 1_000_000;
/** The log figure's name, as its table (and bench/supervisord.ts) gives it. */
export const LOG_FIGURE = `${
  LINES.toLocaleString("en")
} lines of 100 B until all are in the log file`;
/** A file of 1,000,000 numbered lines of 100 bytes (newline included), made once. */
let linesFile: string | undefined;
export async function lines(): Promise<string> {
  if (linesFile) return linesFile;
  const path = await Deno.makeTempFile({ prefix: "xy-bench-lines" });
  const f = await Deno.open(path, { write: true });
  const enc = new TextEncoder();
  let chunk = "";
  for (let i = 1; i <= LINES; i++) {
    chunk += `line ${String(i).padStart(7, "0")} `.padEnd(99, "x") + "\n";
    if (i % 10_000 === 0) {
      await f.write(enc.encode(chunk));
      chunk = "";
    }
  }
  f.close();
  linesFile = path;
  globalThis.addEventListener("unload", () => Deno.removeSync(path));
  return path;
}

/**
 * Readies the machine for a log measure: every dirty page written to disk
 * (`sync`), so no measure pays for the writeback of the one before; then the
 * lines file read whole, so the child reads it from memory: a machine that
 * reclaims idle page cache (as the one in RESULTS.md does within seconds)
 * would otherwise make some measures read it from disk.
 */
export async function readyForLogs(): Promise<void> {
  await new Deno.Command("sync").output();
  if (linesFile) await Deno.readFile(linesFile);
}

/** The chatty figure's child: a line of 100 B every 10 ms. */
const TICKER = new URL("./ticker.ts", import.meta.url).pathname;
/** A ticker line in the log file: the prefix (31 bytes) and the line. */
const TICK_BYTES = 31 + 100;

/** `count` servers that each log a line every 10 ms. */
function tickers(count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [
    `t${i}`,
    `command ${JSON.stringify(Deno.execPath())}\nargs "run" "${TICKER}" "10"\nport ${port()}`,
  ]));
}

/** The lines in the log files of `d`'s tickers. */
async function tickLines(d: BenchDaemon, count: number): Promise<number> {
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    bytes += (await Deno.stat(`${d.state}/logs/t${i}.log`).catch(() => null))?.size ?? 0;
  }
  return Math.floor(bytes / TICK_BYTES);
}

/** The CPU `pid` has used, user and system, in ms. */
async function cpuMs(pid: number): Promise<number> {
  const f = (await Deno.readTextFile(`/proc/${pid}/stat`)).split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) * 1000 / 100;
}

/** The child of the log figure that times its own writes. */
const WRITER = new URL("./writer.ts", import.meta.url).pathname;

/** What the writer child (writer.ts) recorded, once it has written it whole. */
async function longestBlockMs(statsFile: string): Promise<number> {
  let text = "";
  await pollUntil(async () => {
    text = await Deno.readTextFile(statsFile).catch(() => "");
    return text.endsWith("}") || undefined;
  }, { timeoutMs: 60_000 });
  if (!text) throw new Error(`bench: the writer child wrote no ${statsFile}`);
  return (JSON.parse(text) as { longestMs: number }).longestMs;
}

/** Line count and order of an xy log file of the lines file: how many are missing or out of place. */
async function lost(logFile: string): Promise<number> {
  const text = await Deno.readTextFile(logFile);
  let expected = 1;
  let good = 0;
  for (const l of text.split("\n")) {
    if (!l) continue;
    const n = Number(l.slice(36, 43));
    if (n === expected) good++;
    expected = n + 1;
  }
  return LINES - good;
}

/** `count` stdio servers (the example's, on the official SDK) served by xy, shared, with a token. */
function bridged(count: number): Record<string, string> {
  const [command, ...args] = STDIO_SERVER;
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [
    `b${i}`,
    `command ${JSON.stringify(command)}\nargs ${args.map((a) => JSON.stringify(a)).join(" ")}\n` +
    `port ${port()}\ntransport "stdio"\nhealth { start-period "120s"; }`,
  ]));
}

/** A session on `d`'s bridged server `name`, with its token. */
async function bridgedSession(d: BenchDaemon, name: string): Promise<HttpSession> {
  const s = await d.rpc.call("status", { name });
  const { token } = await d.rpc.call("token", { name });
  return await HttpSession.open(s.url!, { Authorization: `Bearer ${token}` });
}

const CALLS = "tools/call round trip (median of 1,000)";
const CALLS_P99 = "tools/call round trip (p99 of 1,000)";
const CALLS10 = "tools/call round trip, 10 sessions at once (median of 1,000)";
const CALLS10_P99 = "tools/call round trip, 10 sessions at once (p99 of 1,000)";
const FIFTY = "50 sessions at once on one shared child: calls failed";
const FIFTY_MS = "50 sessions at once on one shared child: until every answer";
const BRIDGE_RSS = "daemon RSS per bridged server above a plain one (10 of each)";

export const FIGURES: Record<string, Figure> = {
  list: {
    measures: {
      "xy list, whole CLI, 10 servers (median of 20)": {
        unit: "ms",
        target: "fastest of the peers (pm2 206 ms, supervisord 197 ms)",
      },
    },
    run: (bench) =>
      withDaemon(bench, sleepers(10), async (d) => {
        await d.until("10 running", () => allRunning(d, 10));
        const ms = await medianMs(20, () => d.cli(["list"]));
        return { "xy list, whole CLI, 10 servers (median of 20)": ms };
      }),
  },
  rpc: {
    measures: {
      "RPC round trip on an open connection (median of 1000)": { unit: "ms", target: "—" },
    },
    run: (bench) =>
      withDaemon(bench, sleepers(10), async (d) => {
        const ms = await medianMs(1000, () => d.rpc.call("list"));
        return { "RPC round trip on an open connection (median of 1000)": ms };
      }),
  },
  respawn: {
    measures: {
      "crash → respawn gap, zero backoff (median of 20)": { unit: "ms", target: "≤ 5 ms" },
    },
    run: (bench) =>
      withDaemon(bench, {
        crashy: `command "sleep"\nargs "100000"\nport ${port()}\n` +
          `restart {\n  backoff-initial "0ms"\n  max-retries-per-minute 10000\n}`,
      }, async (d) => {
        const gaps: number[] = [];
        let pid = 0;
        await d.until("crashy running", async () => {
          const s = await d.rpc.call("status", { name: "crashy" });
          pid = s.pid ?? 0;
          return s.state === "running";
        });
        for (let i = 0; i < 20; i++) {
          const t0 = Date.now();
          Deno.kill(pid, "SIGKILL");
          let s!: StatusDetail;
          await d.until("a new pid", async () => {
            s = await d.rpc.call("status", { name: "crashy" });
            return s.state === "running" && s.pid !== pid;
          });
          const spawned = s.transitions.findLast((t) => t.reason.startsWith("spawned pid"))!;
          gaps.push(spawned.at_unix_ms - t0);
          pid = s.pid!;
        }
        return { "crash → respawn gap, zero backoff (median of 20)": median(gaps) };
      }),
  },
  logs: {
    measures: {
      [LOG_FIGURE]: {
        unit: "s",
        target: "≤ supervisord (0.20 s)",
      },
      "the same child piped into `cat > file`": { unit: "s", target: "—" },
      "lines lost or out of order": { unit: "", target: "0" },
      "longest a child's 4 KiB write of those lines is blocked": {
        unit: "ms",
        target: "≤ into `cat > file`",
      },
      "the same, the child piped into `cat > file`": { unit: "ms", target: "—" },
    },
    run: async (bench) => {
      const file = await lines();
      const out = await Deno.makeTempFile({ prefix: "xy-bench-cat" });
      // Each measure below starts from the same state (readyForLogs): a run writes some 450 MB.
      await readyForLogs();
      const t0 = performance.now();
      await new Deno.Command("sh", { args: ["-c", `cat '${file}' | cat > '${out}'`] }).output();
      const cat = (performance.now() - t0) / 1000;
      const stats = `${out}.stats`;
      const logs = `logs {\n  max-size "1GiB"\n  keep 1\n}`;
      const cleanup = async () => {
        for (const f of [out, stats]) await Deno.remove(f).catch(() => {});
      };
      return await withDaemon(bench, {
        loud: `command "cat"\nargs "${file}"\nport ${port()}\nautostart #false\n` +
          `restart { policy "never"; }\n${logs}`,
        writer: `command "${Deno.execPath()}"\nargs "run" "-A" "${WRITER}" "${file}" "${stats}"\n` +
          `port ${port()}\nautostart #false\nrestart { policy "never"; }\n${logs}`,
      }, async (d) => {
        const log = `${d.state}/logs/loud.log`;
        const size = LINES * (100 + 31);
        await readyForLogs();
        const t1 = performance.now();
        await d.rpc.call("start", { name: "loud" });
        await d.until("every line in the file", async () => {
          const st = await Deno.stat(log).catch(() => null);
          return (st?.size ?? 0) >= size;
        });
        const took = (performance.now() - t1) / 1000;
        const missing = await lost(log);
        await readyForLogs();
        await new Deno.Command("sh", {
          args: [
            "-c",
            `'${Deno.execPath()}' run -A '${WRITER}' '${file}' '${stats}' | cat > '${out}'`,
          ],
        }).output();
        const catBlocked = await longestBlockMs(stats);
        await cleanup();
        await readyForLogs();
        await d.rpc.call("start", { name: "writer" });
        const blocked = await longestBlockMs(stats);
        await cleanup();
        return {
          [LOG_FIGURE]: took,
          "the same child piped into `cat > file`": cat,
          "lines lost or out of order": missing,
          "longest a child's 4 KiB write of those lines is blocked": blocked,
          "the same, the child piped into `cat > file`": catBlocked,
        };
      }).finally(cleanup);
    },
  },
  stuck: {
    measures: {
      "1,000,000 lines into the file while a follower never reads": {
        unit: "s",
        target: "≤ the same without one (the logs figure)",
      },
    },
    run: async (bench) => {
      const file = await lines();
      const logs = `logs {\n  max-size "1GiB"\n  keep 1\n}`;
      return await withDaemon(bench, {
        loud: `command "cat"\nargs "${file}"\nport ${port()}\nautostart #false\n` +
          `restart { policy "never"; }\n${logs}`,
      }, async (d) => {
        // A follower that asks, reads the answer, and then never reads again.
        const conn = await Deno.connect({ transport: "unix", path: d.socket });
        try {
          const request = {
            jsonrpc: "2.0",
            id: 1,
            method: "logs",
            params: { name: "loud", follow: true, tail: 0 },
          };
          await conn.write(new TextEncoder().encode(JSON.stringify(request) + "\n"));
          const buf = new Uint8Array(4096);
          let answer = "";
          while (!answer.includes('"id":1')) {
            const n = await conn.read(buf);
            if (n === null) throw new Error("bench: the daemon closed the follower");
            answer += new TextDecoder().decode(buf.subarray(0, n));
          }
          const log = `${d.state}/logs/loud.log`;
          await readyForLogs();
          const t0 = performance.now();
          await d.rpc.call("start", { name: "loud" });
          await d.until("every line in the file", async () => {
            const st = await Deno.stat(log).catch(() => null);
            return (st?.size ?? 0) >= LINES * (100 + 31);
          });
          return {
            "1,000,000 lines into the file while a follower never reads": (performance.now() - t0) /
              1000,
          };
        } finally {
          conn.close();
        }
      });
    },
  },
  start: {
    measures: {
      "start --all of 100 servers until all are running": {
        unit: "s",
        target: "≤ 0.5 s inline, ≤ 1.5 s worker",
      },
      "boot with 100 autostart servers until all are running": {
        unit: "s",
        target: "≤ 0.5 s inline, ≤ 1.5 s worker",
      },
      "longest wait for a `list` answer during that boot": { unit: "ms", target: "—" },
    },
    run: async (bench) => {
      const startAll = await withDaemon(bench, sleepers(100, "autostart #false"), async (d) => {
        // A daemon whose servers' supervisors all answer, as a user's does by the time they
        // type the command (status asks each one); the boot figure below is the cold path.
        await Promise.all(sleeperNames(100).map((name) => d.rpc.call("status", { name })));
        const t0 = performance.now();
        await d.rpc.call("start", { all: true });
        await d.until("100 running", () => allRunning(d, 100));
        return (performance.now() - t0) / 1000;
      });
      // From the daemon's spawn: its own start-up, every host's, then every server's.
      const d = await BenchDaemon.create(bench, sleepers(100));
      try {
        const t0 = performance.now();
        await d.start();
        let longest = 0;
        await d.until("100 running", async () => {
          const asked = performance.now();
          const all = await allRunning(d, 100);
          longest = Math.max(longest, performance.now() - asked);
          return all;
        });
        return {
          "start --all of 100 servers until all are running": startAll,
          "boot with 100 autostart servers until all are running": (performance.now() - t0) / 1000,
          "longest wait for a `list` answer during that boot": longest,
        };
      } finally {
        await d.stop();
      }
    },
  },
  stop: {
    measures: {
      "stop --all of 100: all gone": { unit: "s", target: "≤ 0.25 s" },
      "stop --all of 100: the command returns": { unit: "s", target: "≤ 0.35 s" },
    },
    run: (bench) =>
      withDaemon(bench, sleepers(100), async (d) => {
        await d.until("100 running", () => allRunning(d, 100));
        const pids = (await d.rpc.call("list")).map((r) => r.pid!);
        let gone = 0;
        const t0 = performance.now();
        const watch = (async () => {
          await d.until("all gone", async () => {
            for (const pid of pids) {
              const st = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
              if (st && !/\) Z /.test(st)) return false;
            }
            return true;
          });
          gone = (performance.now() - t0) / 1000;
        })();
        const code = await d.cli(["stop", "--all"]);
        const returned = (performance.now() - t0) / 1000;
        await watch;
        if (code !== 0) throw new Error(`stop --all exited ${code}`);
        return {
          "stop --all of 100: all gone": gone,
          "stop --all of 100: the command returns": returned,
        };
      }),
  },
  chatty: {
    measures: {
      "10 servers logging a line every 10 ms: daemon CPU per 1,000 lines": {
        unit: "ms",
        target: "—",
      },
      "10 servers logging a line every 10 ms: daemon RSS": { unit: "MB", target: "—" },
    },
    run: (bench) =>
      withDaemon(bench, tickers(10), async (d) => {
        await d.until("10 running", () => allRunning(d, 10));
        // Past start-up and the JIT's first compilations.
        await d.until("2,000 lines logged", async () => (await tickLines(d, 10)) >= 2_000);
        const [c0, n0] = [await cpuMs(d.pid), await tickLines(d, 10)];
        let n1 = n0;
        await d.until(
          "30,000 more lines",
          async () => (n1 = await tickLines(d, 10)) >= n0 + 30_000,
        );
        const c1 = await cpuMs(d.pid);
        return {
          "10 servers logging a line every 10 ms: daemon CPU per 1,000 lines": (c1 - c0) /
            (n1 - n0) * 1000,
          "10 servers logging a line every 10 ms: daemon RSS": await rssMb(d.pid),
        };
      }),
  },
  bridge: {
    measures: {
      [`${CALLS}: through xy`]: { unit: "ms", target: "≤ supergateway; ≤ own stdio + 1 ms" },
      [`${CALLS}: through supergateway`]: { unit: "ms", target: "—" },
      [`${CALLS}: over the server's own stdio`]: { unit: "ms", target: "—" },
      [`${CALLS}: an HTTP server that answers at once`]: { unit: "ms", target: "—" },
      [`${CALLS_P99}: through xy`]: { unit: "ms", target: "≤ supergateway" },
      [`${CALLS_P99}: through supergateway`]: { unit: "ms", target: "—" },
      [`${CALLS_P99}: over the server's own stdio`]: { unit: "ms", target: "—" },
      [`${CALLS_P99}: an HTTP server that answers at once`]: { unit: "ms", target: "—" },
      [`${CALLS10}: through xy`]: { unit: "ms", target: "≤ supergateway" },
      [`${CALLS10}: through supergateway`]: { unit: "ms", target: "—" },
      [`${CALLS10_P99}: through xy`]: { unit: "ms", target: "≤ supergateway" },
      [`${CALLS10_P99}: through supergateway`]: { unit: "ms", target: "—" },
      [FIFTY]: { unit: "", target: "0" },
      [FIFTY_MS]: { unit: "ms", target: "—" },
      [BRIDGE_RSS]: { unit: "MB", target: "≤ 3 MB" },
    },
    run: async (bench) => {
      const out: Record<string, number> = {};
      const record = (label: string, who: string, times: number[]) => {
        const { median, p99 } = medianP99(times);
        out[`${label}: ${who}`] = median;
        out[`${label.replace("median", "p99")}: ${who}`] = p99;
      };
      await withDaemon(bench, bridged(1), async (d) => {
        await d.until("b0 running", () => allRunning(d, 1), 120_000);
        const one = await bridgedSession(d, "b0");
        record(CALLS, "through xy", await roundTrips([one], 1000));
        const ten = await Promise.all(Array.from({ length: 10 }, () => bridgedSession(d, "b0")));
        record(CALLS10, "through xy", await roundTrips(ten, 100));
        const fifty = await Promise.all(Array.from({ length: 50 }, () => bridgedSession(d, "b0")));
        const t0 = performance.now();
        const results = await Promise.allSettled(fifty.map((s) => s.call()));
        out[FIFTY_MS] = performance.now() - t0;
        out[FIFTY] = results.filter((r) => r.status === "rejected").length;
        for (const s of [one, ...ten, ...fifty]) await s.close();
        // The peer and the floor, on the same server, beside the same daemon.
        const env = d.env();
        const gateway = await Supergateway.start(port(), env);
        try {
          const sg = await HttpSession.open(gateway.url);
          record(CALLS, "through supergateway", await roundTrips([sg], 1000));
          const sg10 = await Promise.all(
            Array.from({ length: 10 }, () => HttpSession.open(gateway.url)),
          );
          record(CALLS10, "through supergateway", await roundTrips(sg10, 100));
          for (const s of [sg, ...sg10]) await s.close();
        } finally {
          await gateway.stop();
        }
        const direct = await StdioSession.open(env);
        try {
          record(CALLS, "over the server's own stdio", await roundTrips([direct], 1000));
        } finally {
          await direct.close();
        }
        // The floor HTTP sets, in a process of its own: what any bridge adds to the stdio figure.
        const echo = await EchoServer.start(port(), env);
        try {
          const e = await HttpSession.open(echo.url);
          record(CALLS, "an HTTP server that answers at once", await roundTrips([e], 1000));
        } finally {
          await echo.stop();
        }
      });
      // What bridging costs the daemon: 10 bridged servers, each with a session that made calls,
      // against 10 plain ones; both idle and settled.
      const bridgedRss = await withDaemon(bench, bridged(10), async (d) => {
        await d.until("10 running", () => allRunning(d, 10), 120_000);
        for (let i = 0; i < 10; i++) {
          const s = await bridgedSession(d, `b${i}`);
          for (let j = 0; j < 20; j++) await s.call();
          await s.close();
        }
        return await settledRssMb(d.pid);
      });
      const plainRss = await withDaemon(bench, sleepers(10), async (d) => {
        await d.until("10 running", () => allRunning(d, 10));
        return await settledRssMb(d.pid);
      });
      out[BRIDGE_RSS] = (bridgedRss - plainRss) / 10;
      return out;
    },
  },
  idle: {
    measures: {
      "daemon CPU over 10 s idle, 10 servers, nobody asking": {
        unit: "ms",
        target: "the same as after a sampling list (nothing samples unasked)",
      },
      "daemon CPU over the 10 s after a list that sampled CPU and memory": {
        unit: "ms",
        target: "the same as idle",
      },
      "daemon CPU of that list (two samples, 200 ms apart)": { unit: "ms", target: "—" },
      "daemon CPU of a list 0.7 s after it (one new sample)": { unit: "ms", target: "—" },
    },
    run: (bench) =>
      withDaemon(bench, sleepers(10), async (d) => {
        await d.until("10 running", () => allRunning(d, 10));
        // Past start-up: the memory reducer and the first samples' garbage settle.
        await settledRssMb(d.pid);
        const quietly = async () => {
          const c0 = await cpuMs(d.pid);
          await new Promise((r) => setTimeout(r, 10_000));
          return (await cpuMs(d.pid)) - c0;
        };
        const idle = await quietly();
        const c0 = await cpuMs(d.pid);
        await d.rpc.call("list");
        const c1 = await cpuMs(d.pid);
        // Past the half second in which answers share their samples: one new sample.
        await new Promise((r) => setTimeout(r, 700));
        await d.rpc.call("list");
        const c2 = await cpuMs(d.pid);
        const after = await quietly();
        return {
          "daemon CPU over 10 s idle, 10 servers, nobody asking": idle,
          "daemon CPU over the 10 s after a list that sampled CPU and memory": after,
          "daemon CPU of that list (two samples, 200 ms apart)": c1 - c0,
          "daemon CPU of a list 0.7 s after it (one new sample)": c2 - c1,
        };
      }),
  },
  rss: {
    measures: {
      "daemon RSS, 0 servers": { unit: "MB", target: "inline ≤ pm2 (58 MB)" },
      "daemon RSS, 10 servers": { unit: "MB", target: "inline ≤ 60 MB" },
      "daemon RSS, 100 servers": { unit: "MB", target: "inline ≤ 80 MB" },
      "per server above the idle daemon (100 servers)": {
        unit: "MB",
        target: "worker ≤ 9 MB",
      },
    },
    run: async (bench) => {
      const at = async (n: number) =>
        await withDaemon(bench, sleepers(n), async (d) => {
          await d.until(`${n} running`, () => allRunning(d, n));
          // An idle daemon's, as a user's is: once start-up garbage is collected and V8's
          // memory reducer has given back what it will.
          return await settledRssMb(d.pid);
        });
      const [r0, r10, r100] = [await at(0), await at(10), await at(100)];
      return {
        "daemon RSS, 0 servers": r0,
        "daemon RSS, 10 servers": r10,
        "daemon RSS, 100 servers": r100,
        "per server above the idle daemon (100 servers)": (r100 - r0) / 100,
      };
    },
  },
};
