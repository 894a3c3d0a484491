/**
 * The bridge figure's tools (SPEC §9, stdio servers): a plain MCP client over
 * Streamable HTTP — the same for xy and for supergateway, so what differs is
 * the bridge — a client of the same server over its own stdio, and
 * supergateway itself, from npm, run by Node where there is one (as its users
 * run it), else by Deno.
 */
import { pollUntil } from "../lib/deadline.ts";
import { splitLines } from "../lib/cli/stdio_shim.ts";

const ROOT = new URL("../", import.meta.url).pathname;
/** The stdio server every bridge serves: the example's, on the official SDK. */
export const STDIO_SERVER = [
  Deno.execPath(),
  "run",
  "-A",
  "--config",
  `${ROOT}deno.json`,
  `${ROOT}examples/stdio_server.ts`,
];
/** The call measured: the example's `wait` tool with no step, answered at once. */
const CALL = { name: "wait", arguments: { steps: 0 } };
const SUPERGATEWAY = "supergateway@4.0.0";

const INIT = {
  protocolVersion: "2025-06-18",
  capabilities: {},
  clientInfo: { name: "xy-bench", version: "1" },
};

/** One MCP session over Streamable HTTP, as a client without an SDK speaks it. */
export class HttpSession {
  #id = 1;
  #session: string | null = null;

  private constructor(readonly url: string, readonly headers: Record<string, string>) {}

  /** Opens a session: `initialize`, then `notifications/initialized`. */
  static async open(url: string, headers: Record<string, string> = {}): Promise<HttpSession> {
    const s = new HttpSession(url, headers);
    await s.request("initialize", INIT);
    await s.#post({ jsonrpc: "2.0", method: "notifications/initialized" });
    return s;
  }

  /** One `tools/call` of the example's `wait`, answered. */
  call(): Promise<unknown> {
    return this.request("tools/call", CALL);
  }

  /** Ends the session (DELETE). */
  async close(): Promise<void> {
    if (!this.#session) return;
    const res = await fetch(this.url, {
      method: "DELETE",
      headers: { ...this.headers, "Mcp-Session-Id": this.#session },
    });
    await res.body?.cancel();
  }

  async request(method: string, params: Record<string, unknown>): Promise<unknown> {
    const id = this.#id++;
    const res = await this.#post({ jsonrpc: "2.0", id, method, params });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method}: HTTP ${res.status}: ${text.slice(0, 200)}`);
    const body = res.headers.get("content-type")?.includes("text/event-stream")
      ? text.split("\n").filter((l) => l.startsWith("data: ")).map((l) => JSON.parse(l.slice(6)))
        .find((m) => m.id === id)
      : JSON.parse(text);
    if (!body || body.error) {
      throw new Error(`${method}: ${body?.error?.message ?? "no answer on the stream"}`);
    }
    return body.result;
  }

  async #post(message: Record<string, unknown>): Promise<Response> {
    const res = await fetch(this.url, {
      method: "POST",
      headers: {
        ...this.headers,
        "Content-Type": "application/json",
        Accept: "application/json, text/event-stream",
        "MCP-Protocol-Version": INIT.protocolVersion,
        ...(this.#session ? { "Mcp-Session-Id": this.#session } : {}),
      },
      body: JSON.stringify(message),
    });
    this.#session ??= res.headers.get("mcp-session-id");
    if (!("id" in message)) await res.body?.cancel();
    return res;
  }
}

/** The same server spoken to over its own stdio: the floor any bridge adds to. */
export class StdioSession {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: AsyncIterator<string>;
  #id = 1;

  private constructor(env: Record<string, string>) {
    this.#child = new Deno.Command(STDIO_SERVER[0]!, {
      args: STDIO_SERVER.slice(1),
      env,
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#lines = this.#child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(
      splitLines(),
    )[Symbol.asyncIterator]();
  }

  static async open(env: Record<string, string>): Promise<StdioSession> {
    const s = new StdioSession(env);
    await s.request("initialize", INIT);
    await s.#send({ jsonrpc: "2.0", method: "notifications/initialized" });
    return s;
  }

  call(): Promise<unknown> {
    return this.request("tools/call", CALL);
  }

  async request(method: string, params: Record<string, unknown>): Promise<unknown> {
    const id = this.#id++;
    await this.#send({ jsonrpc: "2.0", id, method, params });
    for (;;) {
      const { value, done } = await this.#lines.next();
      if (done) throw new Error(`${method}: the server's stdout ended`);
      let m: { id?: number; result?: unknown; error?: { message: string } };
      try {
        m = JSON.parse(value);
      } catch {
        continue; // Its banner.
      }
      if (m.id !== id) continue;
      if (m.error) throw new Error(`${method}: ${m.error.message}`);
      return m.result;
    }
  }

  async close(): Promise<void> {
    await this.#writer.close().catch(() => {});
    await this.#child.status;
    await this.#child.stdout.cancel().catch(() => {});
  }

  #send(m: Record<string, unknown>): Promise<void> {
    return this.#writer.write(new TextEncoder().encode(JSON.stringify(m) + "\n"));
  }
}

/** supergateway serving the same server over Streamable HTTP on `port`, one child per session. */
export class Supergateway {
  readonly runtime: string;
  readonly #child: Deno.ChildProcess;

  private constructor(readonly port: number, env: Record<string, string>) {
    const node = hasNode();
    this.runtime = node ? "node" : "deno";
    const args = [
      "--stdio",
      STDIO_SERVER.map((a) => `'${a}'`).join(" "),
      "--outputTransport",
      "streamableHttp",
      // Its session mode: without it, every request gets a child of its own.
      "--stateful",
      "--port",
      String(port),
      "--logLevel",
      "none",
    ];
    this.#child = new Deno.Command(node ? "npx" : Deno.execPath(), {
      args: node ? ["-y", SUPERGATEWAY, ...args] : ["run", "-A", `npm:${SUPERGATEWAY}`, ...args],
      env,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  }

  /** Starts it and waits until it accepts connections. */
  static async start(port: number, env: Record<string, string>): Promise<Supergateway> {
    const g = new Supergateway(port, env);
    await listening(port, "supergateway").catch(async (e) => {
      await g.stop();
      throw e;
    });
    return g;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/mcp`;
  }

  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // Gone.
    }
    await this.#child.status;
  }
}

/** bench/echo_server.ts on `port`: HTTP's own round trip, the floor of any bridge. */
export class EchoServer {
  readonly #child: Deno.ChildProcess;

  private constructor(readonly port: number, env: Record<string, string>) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        new URL("./echo_server.ts", import.meta.url).pathname,
        String(port),
      ],
      env,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  }

  static async start(port: number, env: Record<string, string>): Promise<EchoServer> {
    const e = new EchoServer(port, env);
    await listening(port, "the echo server");
    return e;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/mcp`;
  }

  async stop(): Promise<void> {
    this.#child.kill("SIGTERM");
    await this.#child.status;
  }
}

/** Waits until something accepts connections on `port`. */
async function listening(port: number, what: string): Promise<void> {
  const up = await pollUntil(async () => {
    const c = await Deno.connect({ hostname: "127.0.0.1", port }).catch(() => null);
    c?.close();
    return c !== null || undefined;
  }, { timeoutMs: 120_000 });
  if (!up) throw new Error(`bench: ${what} did not start`);
}

let node: boolean | undefined;
function hasNode(): boolean {
  if (node !== undefined) return node;
  try {
    node = new Deno.Command("node", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    node = false;
  }
  return node;
}

/** Median and 99th percentile of `v`, in ms. */
export function medianP99(v: number[]): { median: number; p99: number } {
  const s = [...v].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return {
    median: s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2,
    p99: s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)]!,
  };
}

/**
 * Round trips of `calls` calls on each of `sessions` sessions at once (after
 * a few to warm up), in ms: `sessions × calls` times.
 */
export async function roundTrips(
  sessions: readonly { call(): Promise<unknown> }[],
  calls: number,
): Promise<number[]> {
  for (const s of sessions) for (let i = 0; i < 20; i++) await s.call();
  const times: number[] = [];
  await Promise.all(sessions.map(async (s) => {
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      await s.call();
      times.push(performance.now() - t0);
    }
  }));
  return times;
}
