/**
 * `xy connect <name>` (SPEC §12): for a client that only starts stdio
 * servers (Claude Desktop), a stdio ↔ Streamable HTTP shim to the server xy
 * serves, so that client shares the one supervised server too. Every message
 * goes both ways — requests, answers, notifications, the server's own
 * requests (on the session's GET stream) — and nothing but protocol goes to
 * stdout; what the shim has to say goes to stderr. It finds the daemon by the
 * default paths (a client starts it with a bare environment), starts the
 * daemon and the server if they are not up, gets the token over the socket,
 * initializes again on the client's behalf when its session is refused (404),
 * and ends when the client closes its stdin.
 */
import { systemClock } from "../clock.ts";
import { pollUntil } from "../deadline.ts";
import { errorMessage } from "../error_message.ts";
import { ExitCode } from "../protocol/failures.ts";
import type { Context } from "./command.ts";

/** A JSON-RPC message, as far as the shim looks into it. */
interface Message {
  readonly jsonrpc?: string;
  readonly id?: string | number | null;
  readonly method?: string;
  readonly params?: Record<string, unknown>;
  readonly result?: unknown;
  readonly error?: unknown;
}

/** How long a request waits for a server that does not answer (restarting), before it errs. */
const UNREACHABLE_WAIT_MS = 15_000;
/** How long the GET stream waits before it is opened again. */
const STREAM_RETRY_MS = 1_000;

const encoder = new TextEncoder();

const sleep = (ms: number) => new Promise<void>((r) => systemClock.setTimeout(r, ms));

/** Runs the shim for server `name`; resolves with the exit code once the client closed stdin. */
export async function connectShim(name: string, ctx: Context): Promise<number> {
  const say = (line: string) => ctx.io.err(`xy connect: ${line}\n`);
  let target: { url: string; token: string | null };
  try {
    target = await prepare(name, ctx);
  } catch (e) {
    say(errorMessage(e));
    return ExitCode.Error;
  }
  const shim = new Shim(target.url, target.token, say);
  await shim.run(Deno.stdin.readable);
  return ExitCode.Ok;
}

/** The server's URL and token, once it is up (the daemon and the server started if need be). */
async function prepare(name: string, ctx: Context): Promise<{ url: string; token: string | null }> {
  const client = await ctx.client();
  try {
    let s = await client.call("status", { name });
    if (!s.url) {
      throw new Error(`"${name}" has no MCP endpoint (a stdio server, or health { mcp "/path" })`);
    }
    if (s.mcp?.transport === "sse") {
      throw new Error(`"${name}" speaks HTTP+SSE (2024-11-05); xy connect speaks streamable HTTP`);
    }
    if (!s.ready) {
      if (s.state !== "starting" && s.state !== "running") await client.call("start", { name });
      const wait = (s.health_check?.start_period_ms ?? 0) + 10_000;
      const up = await pollUntil(async () => {
        s = await client.call("status", { name });
        if (s.state === "failed") {
          throw new Error(`"${name}" failed to start: ${s.last_error ?? ""}`);
        }
        return s.ready || undefined;
      }, { timeoutMs: wait, firstDelayMs: 20, maxDelayMs: 250 });
      if (!up) {
        throw new Error(`"${name}" is not up after ${Math.round(wait / 1000)}s (${s.state})`);
      }
    }
    const { token } = await client.call("token", { name });
    return { url: s.url!, token };
  } finally {
    await client.close();
  }
}

/** One client's session through the shim. */
class Shim {
  #session: string | null = null;
  #protocol: string | null = null;
  /** The client's `initialize` params, to initialize again on its behalf. */
  #init: Record<string, unknown> | null = null;
  /** Settles once the session exists: every other message waits for it. */
  #ready: Promise<void>;
  #readyNow!: () => void;
  #reinit: Promise<void> | null = null;
  readonly #stdout = Deno.stdout.writable.getWriter();
  /** The last line's write: the client has every line once it settles. */
  #out: Promise<void> = Promise.resolve();
  #streaming = false;
  readonly #closed = new AbortController();

  constructor(
    readonly url: string,
    readonly token: string | null,
    readonly say: (line: string) => void,
  ) {
    this.#ready = new Promise((r) => this.#readyNow = r);
  }

  /** Reads the client's messages until its stdin ends, then ends the session. */
  async run(stdin: ReadableStream<Uint8Array>): Promise<void> {
    const lines = stdin.pipeThrough(new TextDecoderStream()).pipeThrough(splitLines());
    for await (const line of lines) {
      if (line.trim() === "") continue;
      let m: Message;
      try {
        m = JSON.parse(line);
      } catch {
        this.say(`not JSON, not sent: ${line.slice(0, 200)}`);
        continue;
      }
      const sent = this.#forward(m).catch((e) => this.say(errorMessage(e)));
      // An initialize is answered before anything else is sent.
      if (m.method === "initialize") await sent;
    }
    this.#closed.abort();
    if (this.#session) {
      await fetch(this.url, { method: "DELETE", headers: this.#headers() })
        .then((r) => r.body?.cancel())
        .catch(() => {});
    }
    await this.#out;
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}),
      ...(this.#session ? { "Mcp-Session-Id": this.#session } : {}),
      ...(this.#protocol ? { "MCP-Protocol-Version": this.#protocol } : {}),
      ...extra,
    };
  }

  /** One line to the client; the writer keeps them in order. */
  #write(m: unknown): void {
    this.#out = this.#stdout.write(encoder.encode(JSON.stringify(m) + "\n")).catch(() => {});
  }

  async #forward(m: Message): Promise<void> {
    if (m.method === "initialize") {
      this.#init = m.params ?? {};
      try {
        return await this.#post(m, false);
      } finally {
        this.#readyNow();
      }
    }
    await this.#ready;
    await this.#post(m, true);
    if (m.method === "notifications/initialized") this.#stream();
  }

  /** POSTs `m`; its answers go to the client. A refused session is initialized again, once. */
  async #post(m: Message, retry: boolean): Promise<void> {
    const isRequest = m.method !== undefined && m.id !== undefined && m.id !== null;
    let res: Response;
    try {
      res = await this.#send(m);
    } catch (e) {
      if (isRequest) this.#fail(m, `the server does not answer: ${errorMessage(e)}`);
      else this.say(`${m.method ?? "an answer"} not sent: ${errorMessage(e)}`);
      return;
    }
    if (res.status === 404 && retry && this.#session) {
      await res.body?.cancel();
      await this.#initializeAgain();
      return await this.#post(m, false);
    }
    if (m.method === "initialize" && res.ok) {
      this.#session = res.headers.get("mcp-session-id");
    }
    if (res.status === 202 || res.status === 204) {
      await res.body?.cancel();
      return;
    }
    if (!res.ok) {
      const text = await res.text().catch(() => "");
      const why = `HTTP ${res.status}${text ? `: ${text.slice(0, 300)}` : ""}`;
      if (isRequest) this.#fail(m, why);
      else this.say(`${m.method ?? "an answer"} refused: ${why}`);
      return;
    }
    await this.#answers(res, (msg) => {
      if (m.method === "initialize" && msg.id === m.id) {
        const v = (msg.result as { protocolVersion?: unknown } | undefined)?.protocolVersion;
        if (typeof v === "string") this.#protocol = v;
      }
      this.#write(msg);
    });
  }

  /** Sends `m`, waiting out a server that does not accept connections (restarting) for a while. */
  async #send(m: Message): Promise<Response> {
    const deadline = Date.now() + UNREACHABLE_WAIT_MS;
    for (let delay = 100;; delay = Math.min(delay * 2, 1_000)) {
      try {
        return await fetch(this.url, {
          method: "POST",
          headers: this.#headers({
            "Content-Type": "application/json",
            Accept: "application/json, text/event-stream",
          }),
          body: JSON.stringify(m),
        });
      } catch (e) {
        if (Date.now() + delay > deadline || this.#closed.signal.aborted) throw e;
        await sleep(delay);
      }
    }
  }

  /** A request of the client's answered with an error, so it never hangs. */
  #fail(m: Message, why: string): void {
    this.#write({
      jsonrpc: "2.0",
      id: m.id,
      error: { code: -32603, message: `xy connect: ${why}` },
    });
  }

  /** The session was refused: initialize again with the client's own params, unseen by it. */
  #initializeAgain(): Promise<void> {
    this.#reinit ??= (async () => {
      this.say("the session was refused; initializing again");
      this.#session = null;
      const init = {
        jsonrpc: "2.0",
        id: "xy-connect-init",
        method: "initialize",
        params: this.#init ?? {},
      };
      const res = await this.#send(init);
      this.#session = res.headers.get("mcp-session-id");
      await res.body?.cancel();
      const done = await this.#send({ jsonrpc: "2.0", method: "notifications/initialized" });
      await done.body?.cancel();
    })().finally(() => this.#reinit = null);
    return this.#reinit;
  }

  /** The session's GET stream: what the server sends of itself, to the client; opened again if it ends. */
  #stream(): void {
    if (this.#streaming) return;
    this.#streaming = true;
    void (async () => {
      while (!this.#closed.signal.aborted) {
        try {
          const res = await fetch(this.url, {
            method: "GET",
            headers: this.#headers({ Accept: "text/event-stream" }),
            signal: this.#closed.signal,
          });
          if (res.status === 405) {
            await res.body?.cancel();
            return; // The server offers no stream.
          }
          if (res.status === 404) {
            await res.body?.cancel();
            await this.#initializeAgain();
            continue;
          }
          if (res.ok) await this.#answers(res, (msg) => this.#write(msg));
          else await res.body?.cancel();
        } catch {
          // Closed, or the server is restarting: open it again in a moment.
        }
        if (this.#closed.signal.aborted) return;
        await sleep(STREAM_RETRY_MS);
      }
    })();
  }

  /** Each message of an answer: a JSON body (one or a batch), or an SSE stream's events. */
  async #answers(res: Response, each: (m: Message) => void): Promise<void> {
    const type = res.headers.get("content-type") ?? "";
    if (!type.includes("text/event-stream")) {
      const text = await res.text();
      if (!text.trim()) return;
      const body = JSON.parse(text);
      for (const m of Array.isArray(body) ? body : [body]) each(m);
      return;
    }
    let data: string[] = [];
    for await (
      const line of res.body!.pipeThrough(new TextDecoderStream()).pipeThrough(splitLines())
    ) {
      if (line === "") {
        if (data.length) {
          try {
            each(JSON.parse(data.join("\n")));
          } catch {
            this.say(`an event that is not JSON: ${data.join("\n").slice(0, 200)}`);
          }
        }
        data = [];
      } else if (line.startsWith("data:")) {
        data.push(line.slice(line[5] === " " ? 6 : 5));
      }
    }
  }
}

/** Lines of a text stream, `\r` ends dropped; a last line without its newline too. */
export function splitLines(): TransformStream<string, string> {
  let carry = "";
  return new TransformStream({
    transform(chunk, c) {
      const parts = (carry + chunk).split("\n");
      carry = parts.pop()!;
      for (const p of parts) c.enqueue(p.endsWith("\r") ? p.slice(0, -1) : p);
    },
    flush(c) {
      if (carry) c.enqueue(carry);
    },
  });
}
