// deno-lint-ignore-file no-console -- the benchmark's table is its output
/**
 * `deno task bench:supervisord [--runs N] [--logs-with-xy]`: the peer's
 * figures on this machine, by the method of xy's own (bench/figures.ts), for
 * bench/RESULTS.md: a million log lines into the file, start and stop of
 * 100 programs, boot with 100, RSS with 0, 10 and 100. With
 * `--logs-with-xy`, only the log figure, round by round with xy's in both
 * hostings, so that both meet the same moment of a noisy machine. Needs `supervisord`
 * on PATH (Debian: `apt-get install supervisor`). Programs have
 * `startsecs=0`, so one counts as running once spawned, as an xy server
 * without health checks does. Its XML-RPC is spoken over its Unix socket.
 */
import { parseArgs } from "node:util";
import {
  FIGURES,
  LINES,
  lines,
  LOG_FIGURE as XY_LOG_FIGURE,
  readyForLogs,
  settledRssMb,
} from "./figures.ts";
import { cleanupAll } from "./sandbox.ts";
import { pollUntil } from "../lib/deadline.ts";
import { parseEnviron } from "../lib/process/markers.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "5" },
    "logs-with-xy": { type: "boolean", default: false },
  },
});
const runs = Math.max(1, Number(values.runs));

/** One supervisord in a temp dir, with `count` sleeping programs and the loud one. */
class Supervisord {
  #pid = 0;
  private constructor(readonly dir: string) {}

  static async start(count: number, autostart: boolean, file: string): Promise<Supervisord> {
    const dir = await Deno.makeTempDir({ prefix: "xy-bench-supervisord" });
    const programs = Array.from(
      { length: count },
      (_, i) =>
        `[program:s${i}]\ncommand=sleep 100000\nautostart=${autostart}\nstartsecs=0\n` +
        `stdout_logfile=${dir}/s${i}.log\nstderr_logfile=${dir}/s${i}.err\n`,
    );
    await Deno.writeTextFile(
      `${dir}/sv.conf`,
      `[unix_http_server]\nfile=${dir}/sv.sock\n[supervisord]\nlogfile=${dir}/supervisord.log\n` +
        `pidfile=${dir}/sv.pid\nchildlogdir=${dir}\n[rpcinterface:supervisor]\n` +
        `supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n` +
        `[program:loud]\ncommand=cat ${file}\nautostart=false\nautorestart=false\nstartsecs=0\n` +
        `stdout_logfile=${dir}/loud.log\nstdout_logfile_maxbytes=0\n` + programs.join(""),
    );
    const sv = new Supervisord(dir);
    const out = await new Deno.Command("supervisord", { args: ["-c", `${dir}/sv.conf`] }).output();
    if (!out.success) throw new Error(`supervisord: ${new TextDecoder().decode(out.stderr)}`);
    const up = await pollUntil(async () => {
      const state = await sv.call("supervisor.getState").catch(() => "");
      return state.includes("RUNNING") || undefined;
    }, { timeoutMs: 20_000, firstDelayMs: 1, maxDelayMs: 5 });
    if (!up) throw new Error("supervisord did not answer");
    sv.#pid = Number((await Deno.readTextFile(`${dir}/sv.pid`)).trim());
    return sv;
  }

  get pid(): number {
    return this.#pid;
  }

  /** One XML-RPC call with string arguments; the response body. */
  async call(method: string, ...args: string[]): Promise<string> {
    const params = args.map((a) => `<param><value><string>${a}</string></value></param>`).join("");
    const body = `<?xml version="1.0"?><methodCall><methodName>${method}</methodName>` +
      `<params>${params}</params></methodCall>`;
    const conn = await Deno.connect({ transport: "unix", path: `${this.dir}/sv.sock` });
    try {
      await conn.write(new TextEncoder().encode(
        `POST /RPC2 HTTP/1.0\r\nContent-Type: text/xml\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      ));
      const response = await new Response(conn.readable).text();
      return response.slice(response.indexOf("\r\n\r\n") + 4);
    } finally {
      try {
        conn.close();
      } catch {
        // Closed with its stream.
      }
    }
  }

  async running(): Promise<number> {
    const info = await this.call("supervisor.getAllProcessInfo");
    return info.match(/<name>statename<\/name>\s*<value><string>RUNNING/g)?.length ?? 0;
  }

  /** Shuts it down and waits for it to be gone, then kills what it left and removes the dir. */
  async stop(): Promise<void> {
    await this.call("supervisor.shutdown").catch(() => "");
    await pollUntil(() => !alive(this.#pid) || undefined, { timeoutMs: 20_000 });
    // Whatever it left (it stops its programs itself): every process its environment names it in.
    const url = `unix://${this.dir}/sv.sock`;
    for await (const e of Deno.readDir("/proc")) {
      const env = /^\d+$/.test(e.name)
        ? await Deno.readFile(`/proc/${e.name}/environ`).catch(() => null)
        : null;
      if (env && parseEnviron(env).get("SUPERVISOR_SERVER_URL") === url) {
        try {
          Deno.kill(Number(e.name), "SIGKILL");
        } catch {
          // Gone.
        }
      }
    }
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, check: () => Promise<boolean>) {
  const ok = await pollUntil(async () => (await check()) || undefined, {
    timeoutMs: 60_000,
    firstDelayMs: 1,
    maxDelayMs: 5,
  });
  if (!ok) throw new Error(`bench: timed out waiting for ${what}`);
}

const file = await lines();
const results: Record<string, number[]> = {};
const add = (label: string, value: number) => (results[label] ??= []).push(value);
const LOG_FIGURE = `${LINES.toLocaleString("en")} lines of 100 B into the log file (s)`;
try {
  for (let r = 0; r < runs; r++) {
    if (values["logs-with-xy"]) {
      for (const isolation of ["inline", "worker"] as const) {
        const xy = await FIGURES.logs!.run({ isolation });
        add(`xy ${isolation}: ${LOG_FIGURE}`, xy[XY_LOG_FIGURE]!);
      }
    }
    let sv = await Supervisord.start(0, false, file);
    // As xy's log figure: after a `sync`, the lines file read just before.
    await readyForLogs();
    let t0 = performance.now();
    await sv.call("supervisor.startProcess", "loud");
    await until("every line in the file", async () => {
      const st = await Deno.stat(`${sv.dir}/loud.log`).catch(() => null);
      return (st?.size ?? 0) >= LINES * 100;
    });
    add(
      values["logs-with-xy"] ? `supervisord: ${LOG_FIGURE}` : LOG_FIGURE,
      (performance.now() - t0) / 1000,
    );
    if (values["logs-with-xy"]) {
      await sv.stop();
      continue;
    }
    add("RSS, 0 programs (MB)", await settledRssMb(sv.pid));
    await sv.stop();

    sv = await Supervisord.start(10, true, file);
    await until("10 running", async () => (await sv.running()) === 10);
    add("RSS, 10 programs (MB)", await settledRssMb(sv.pid));
    await sv.stop();

    sv = await Supervisord.start(100, false, file);
    t0 = performance.now();
    await sv.call("supervisor.startAllProcesses");
    await until("100 running", async () => (await sv.running()) === 100);
    add("start all of 100 until all run (s)", (performance.now() - t0) / 1000);
    add("RSS, 100 programs (MB)", await settledRssMb(sv.pid));
    const pids = [...(await sv.call("supervisor.getAllProcessInfo")).matchAll(
      /<name>pid<\/name>\s*<value><int>(\d+)<\/int>/g,
    )].map((m) => Number(m[1])).filter((p) => p > 0);
    t0 = performance.now();
    const returned = sv.call("supervisor.stopAllProcesses").then(() => performance.now() - t0);
    await until("all gone", () => Promise.resolve(!pids.some(alive)));
    add("stop all of 100: all gone (s)", (performance.now() - t0) / 1000);
    add("stop all of 100: the call returns (s)", (await returned) / 1000);
    await sv.stop();

    t0 = performance.now();
    sv = await Supervisord.start(100, true, file);
    await until("100 running", async () => (await sv.running()) === 100);
    add("boot with 100 autostart programs until all run (s)", (performance.now() - t0) / 1000);
    await sv.stop();
  }
} finally {
  await cleanupAll();
}
console.log(
  `| ${
    values["logs-with-xy"] ? "figure" : "supervisord figure"
  } | median | min–max |\n| --- | --- | --- |`,
);
for (const [label, vals] of Object.entries(results)) {
  const s = [...vals].sort((a, b) => a - b);
  const f = (v: number) => v.toFixed(label.endsWith("(MB)") ? 1 : 3);
  console.log(`| ${label} | ${f(s[s.length >> 1]!)} | ${f(s[0]!)}–${f(s.at(-1)!)} |`);
}
