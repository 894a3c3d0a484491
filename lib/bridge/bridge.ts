/**
 * A stdio MCP server served over Streamable HTTP (SPEC §11): the endpoint at
 * `http://127.0.0.1:<port>/mcp`, living from the server's start to its stop
 * in its supervisor, and the shared child's channel behind it. Every message
 * between them goes through the router (router.ts, pure); this file does the
 * I/O — the listener, the sessions' streams, the child's pipes — and answers
 * the machine's probes: the child's answer to xy's own `initialize` makes the
 * server ready, and a `ping` checks it is alive.
 *
 * Written for xy rather than on the official SDK's server transport: that one
 * costs some 17 MB in every worker (measured), far over SPEC §9's budget, and
 * keeps one transport per session, which cannot route many sessions onto one
 * child.
 */
import type { Clock } from "../clock.ts";
import { deadline } from "../deadline.ts";
import type { McpInfo, ProbeResult } from "../health/probe.ts";
import { ChildChannel } from "./child_channel.ts";
import { checkRequest, MAX_BODY_BYTES, type Refusal, tooLarge } from "./http_checks.ts";
import {
  asMessage,
  asObject,
  failure,
  isRequest,
  isResponse,
  notification,
  RPC_ERRORS,
  type RpcId,
  type RpcMessage,
} from "./jsonrpc.ts";
import { LATEST_PROTOCOL, type Out, PROTOCOL_VERSIONS, SharedRouter } from "./router.ts";
import { SessionIds } from "./session_ids.ts";
import { Exchange, SseStream } from "./streams.ts";

/** What a stdio server's supervisor is given, by the daemon, to serve its endpoint. */
export interface BridgeSecrets {
  /** The bearer token its requests must carry; null for `auth "none"`. */
  readonly token: string | null;
  /** The key session ids are signed with, base64 (`<state>/session.key`). */
  readonly sessionKey: string;
  /** Where the ids of sessions its clients ended are kept. */
  readonly endedFile: string;
}

/** What a bridge is made with. */
export interface BridgeOptions {
  readonly name: string;
  readonly port: number;
  /** The bearer token requests must carry; null for `auth "none"`. */
  readonly token: string | null;
  /** The key session ids are signed with (`<state>/session.key`). */
  readonly sessionKey: Uint8Array;
  /** Where the ids of sessions ended by DELETE are kept, so they stay ended. */
  readonly endedFile?: string;
  /** How long a request waits for a child that is not ready (the start period). */
  readonly readyWaitMs: number;
  /** Also log every JSON-RPC message, cut to 4 KiB. */
  readonly logMessages: boolean;
  /** A line for the server's log: what the child printed that is not protocol, or a message. */
  readonly log: (line: string) => void;
  /** xy's version, for the `clientInfo` of its own `initialize`. */
  readonly version: string;
  readonly clock?: Clock;
}

/** What `xy status` shows of a bridge. */
export interface BridgeStatus {
  readonly serverInfo: McpInfo | null;
  readonly sessions: readonly {
    readonly id: string;
    readonly clientInfo: { readonly name?: string; readonly version?: string } | null;
    readonly protocolVersion: string;
    readonly inflight: number;
  }[];
  readonly inflight: number;
}

/** The server states in which requests get 503. */
const UNAVAILABLE = new Set(["failed", "stopping"]);
/** How long a client is told to wait before it asks again after a 503. */
const RETRY_AFTER_S = 2;
/** Messages kept for a session that has no GET stream open. */
const MAX_BUFFERED = 1000;
/** How much of a message the log holds, with `log-messages`. */
const LOGGED_BYTES = 4096;

const key = (session: string, id: RpcId) => `${session}\0${JSON.stringify(id)}`;

/** One stdio server's endpoint and shared child. */
export class StdioBridge {
  readonly #opts: BridgeOptions;
  readonly #router = new SharedRouter();
  readonly #ids: SessionIds;
  /** Sessions a client ended with DELETE: 404 from then on. */
  readonly #ended = new Set<string>();
  #server: Deno.HttpServer | null = null;
  #channel: ChildChannel | null = null;
  #state = "stopped";
  #serverInfo: McpInfo | null = null;
  /** POSTed requests waiting for their answer, by session and id. */
  readonly #exchanges = new Map<string, Exchange>();
  /** Batched requests waiting for their answer (always JSON), by session and id. */
  readonly #batched = new Map<string, (m: RpcMessage) => void>();
  readonly #getStreams = new Map<string, SseStream[]>();
  readonly #buffered = new Map<string, RpcMessage[]>();
  /** xy's own requests to the child, by id. */
  readonly #own = new Map<number, (m: RpcMessage) => void>();
  #initializing: Promise<RpcMessage> | null = null;
  /** Whether the child was ever initialized (a later initialize restores the sessions' state). */
  #everReady = false;
  #readyWaiters: (() => void)[] = [];

  constructor(opts: BridgeOptions) {
    this.#opts = opts;
    this.#ids = new SessionIds(opts.sessionKey);
    if (opts.endedFile) {
      try {
        for (const id of Deno.readTextFileSync(opts.endedFile).split("\n")) {
          if (id) this.#ended.add(id);
        }
      } catch {
        // None ended yet.
      }
    }
  }

  /** True while the endpoint listens. */
  get listening(): boolean {
    return this.#server !== null;
  }

  /**
   * Starts listening on `127.0.0.1:<port>`; resolves with why it could not
   * (the port is taken), or null. A bridge that listens already stays as it is.
   */
  listen(describeTaken: (port: number) => Promise<string>): Promise<string | null> {
    if (this.#server) return Promise.resolve(null);
    try {
      this.#server = Deno.serve({
        hostname: "127.0.0.1",
        port: this.#opts.port,
        onListen: () => {},
        onError: () => new Response("internal error", { status: 500 }),
      }, (req) => this.#handle(req));
      return Promise.resolve(null);
    } catch (e) {
      if (e instanceof Deno.errors.AddrInUse) return describeTaken(this.#opts.port);
      return Promise.resolve(`cannot listen on 127.0.0.1:${this.#opts.port}: ${String(e)}`);
    }
  }

  /** Stops listening; open streams end. */
  async close(): Promise<void> {
    this.#endStreams();
    const server = this.#server;
    this.#server = null;
    await server?.shutdown();
  }

  /** The server's state changed: while it is failed or stopping, requests get 503. */
  serverState(state: string): void {
    this.#state = state;
    if (state === "stopping") {
      // A stop ends every session's streams; requests in flight get an error.
      this.#dispatch(this.#router.childGone("the server is stopping"));
      this.#endStreams();
    }
  }

  /** A new child: its stdin and stdout become the channel. */
  attach(stdin: WritableStream<Uint8Array>, stdout: ReadableStream<Uint8Array>): ChildChannel {
    this.#channel = new ChildChannel(stdin, stdout, {
      message: (m) => this.#fromChild(m),
      text: (line) => this.#opts.log(line),
    });
    return this.#channel;
  }

  /** The child exited: requests in flight are answered with why, and it is not ready any more. */
  childGone(why: string): void {
    this.#channel = null;
    this.#initializing = null;
    for (const settle of this.#own.values()) settle(failure(0, RPC_ERRORS.internal, why));
    this.#own.clear();
    this.#dispatch(this.#router.childGone(why));
  }

  /** Closes the child's stdin: the first step of its stop. */
  closeInput(): void {
    void this.#channel?.closeInput();
  }

  /**
   * The machine's probe: until the child is ready, its answer to xy's own
   * `initialize` (sent once, waited for across probes); then a `ping`.
   */
  async probe(timeoutMs: number): Promise<ProbeResult> {
    const t0 = performance.now();
    const took = () => Math.round(performance.now() - t0);
    const failed = (message: string): ProbeResult => ({
      status: "failed",
      message,
      latencyMs: took(),
    });
    if (!this.#channel) return failed("the server's process is not running");
    const clock = this.#opts.clock;
    const timeout = (what: string) => () =>
      new Error(`no answer to ${what} within ${formatMs(timeoutMs)}`);
    if (this.#router.init === null) {
      this.#initializing ??= this.#ask("initialize", {
        protocolVersion: LATEST_PROTOCOL,
        // Not roots: a shared child keeps the directories it was given.
        capabilities: { sampling: {}, elicitation: {} },
        clientInfo: { name: "xy", version: this.#opts.version },
      });
      let m: RpcMessage;
      try {
        m = await deadline(this.#initializing, timeoutMs, {
          onTimeout: timeout("initialize"),
          ...(clock ? { clock } : {}),
        });
      } catch (e) {
        return failed((e as Error).message);
      }
      this.#initializing = null;
      const info = m.error ? undefined : serverInfoOf(m.result);
      if (!info) {
        return failed(
          m.error
            ? `initialize failed: ${m.error.message}`
            : "not an MCP server: initialize has no serverInfo",
        );
      }
      this.#toChild(notification("notifications/initialized"));
      this.#router.ready(asObject(m.result)!);
      this.#serverInfo = info;
      if (this.#everReady) this.#dispatch(this.#router.restore());
      this.#everReady = true;
      for (const w of this.#readyWaiters.splice(0)) w();
      return {
        status: "healthy",
        message: `${info.name} ${info.version} (protocol ${info.protocolVersion})`,
        latencyMs: took(),
        mcp: info,
      };
    }
    try {
      const m = await deadline(this.#ask("ping"), timeoutMs, {
        onTimeout: timeout("ping"),
        ...(clock ? { clock } : {}),
      });
      if (m.error) return failed(`ping failed: ${m.error.message}`);
    } catch (e) {
      return failed((e as Error).message);
    }
    return { status: "healthy", message: "ping answered", latencyMs: took() };
  }

  /** Sessions, their clients, and requests in flight. */
  status(): BridgeStatus {
    const r = this.#router.status();
    return {
      serverInfo: this.#serverInfo,
      sessions: r.sessions.map((s) => ({
        id: s.id.slice(0, 8),
        clientInfo: s.clientInfo,
        protocolVersion: s.protocolVersion,
        inflight: s.inflight,
      })),
      inflight: r.inflight,
    };
  }

  /** Asks the child something of xy's own; resolves with its answer (or an error if it goes). */
  #ask(method: string, params?: Record<string, unknown>): Promise<RpcMessage> {
    const { id, out } = this.#router.own(method, params);
    const answer = new Promise<RpcMessage>((resolve) => this.#own.set(id, resolve));
    this.#dispatch([out]);
    return answer;
  }

  #fromChild(m: RpcMessage) {
    if (this.#opts.logMessages) this.#opts.log(`← ${cut(JSON.stringify(m))}`);
    this.#dispatch(this.#router.fromChild(m));
  }

  #toChild(m: RpcMessage) {
    if (this.#opts.logMessages) this.#opts.log(`→ ${cut(JSON.stringify(m))}`);
    this.#channel?.send(m);
  }

  #dispatch(outs: readonly Out[]) {
    for (const o of outs) {
      switch (o.to) {
        case "child":
          this.#toChild(o.message);
          break;
        case "xy": {
          const settle = this.#own.get(o.id);
          this.#own.delete(o.id);
          settle?.(o.message);
          break;
        }
        case "session":
          this.#toSession(o.session, o.message, o.about);
          break;
      }
    }
  }

  /** A message for a session: on the stream of the request it is about, else its GET stream. */
  #toSession(session: string, m: RpcMessage, about: RpcId | undefined) {
    if (about !== undefined) {
      const k = key(session, about);
      const exchange = this.#exchanges.get(k);
      if (exchange && !exchange.done) {
        exchange.push(m);
        if (exchange.done) this.#exchanges.delete(k);
        return;
      }
      const batched = this.#batched.get(k);
      if (batched && isResponse(m) && m.id === about) {
        this.#batched.delete(k);
        return batched(m);
      }
    }
    const streams = (this.#getStreams.get(session) ?? []).filter((s) => !s.closed);
    const open = streams.at(-1);
    if (open?.send(m)) return;
    const held = this.#buffered.get(session) ?? [];
    held.push(m);
    if (held.length > MAX_BUFFERED) held.shift();
    this.#buffered.set(session, held);
  }

  /** Ends every open exchange and GET stream. */
  #endStreams() {
    for (const e of this.#exchanges.values()) e.end();
    this.#exchanges.clear();
    for (const streams of this.#getStreams.values()) for (const s of streams) s.close();
    this.#getStreams.clear();
  }

  /** Resolves true once the child is ready, false when it is not within the start period. */
  async #whenReady(): Promise<boolean> {
    if (this.#router.init !== null) return true;
    const ready = new Promise<void>((r) => this.#readyWaiters.push(r));
    try {
      await deadline(ready, this.#opts.readyWaitMs, {
        ...(this.#opts.clock ? { clock: this.#opts.clock } : {}),
      });
      return true;
    } catch {
      return false;
    }
  }

  async #handle(req: Request): Promise<Response> {
    const refusal = checkRequest(req, { port: this.#opts.port, token: this.#opts.token });
    if (refusal) return refuse(refusal);
    if (new URL(req.url).pathname !== "/mcp") {
      return refuse({ status: 404, message: "not found: the MCP endpoint is /mcp" });
    }
    if (UNAVAILABLE.has(this.#state)) {
      return refuse({
        status: 503,
        message: `the server is ${this.#state}`,
        headers: { "Retry-After": String(RETRY_AFTER_S) },
      });
    }
    const version = req.headers.get("mcp-protocol-version");
    if (version !== null && !(PROTOCOL_VERSIONS as readonly string[]).includes(version)) {
      return refuse({
        status: 400,
        message: `unsupported MCP-Protocol-Version ${JSON.stringify(version)}: xy speaks ${
          PROTOCOL_VERSIONS.join(", ")
        }`,
      });
    }
    switch (req.method) {
      case "POST":
        return await this.#post(req);
      case "GET":
        return await this.#get(req);
      case "DELETE":
        return await this.#delete(req);
      default:
        return refuse({
          status: 405,
          message: `${req.method} is not a method of this endpoint`,
          headers: { Allow: "GET, POST, DELETE" },
        });
    }
  }

  /**
   * The session a request names: 400 without one, 404 for an id xy did not
   * issue or a client ended. One xy issued but no longer holds (a restart of
   * the daemon or the server) is re-created.
   */
  async #session(req: Request): Promise<string | Response> {
    const id = req.headers.get("mcp-session-id");
    if (!id) {
      return refuse({ status: 400, message: "Mcp-Session-Id is missing: initialize first" });
    }
    if (this.#ended.has(id) || !(await this.#ids.verify(id))) {
      return refuse({ status: 404, message: "no such session: initialize again" });
    }
    if (!this.#router.has(id)) {
      this.#router.reopen(id, req.headers.get("mcp-protocol-version") ?? "2025-03-26");
    }
    return id;
  }

  async #post(req: Request): Promise<Response> {
    const text = await readBody(req);
    if (text === null) return refuse(tooLarge());
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return json(400, failure(null, RPC_ERRORS.parse, "the body is not JSON"));
    }
    const batch = Array.isArray(body);
    const items = batch ? body as unknown[] : [body];
    const messages = items.map(asMessage);
    if (messages.length === 0 || messages.some((m) => m === undefined)) {
      return json(400, failure(null, RPC_ERRORS.invalidRequest, "not a JSON-RPC message"));
    }
    const ms = messages as RpcMessage[];
    if (!req.headers.get("mcp-session-id")) {
      const m = ms[0]!;
      if (batch || !isRequest(m) || m.method !== "initialize") {
        return refuse({
          status: 400,
          message: "Mcp-Session-Id is missing: a session begins with an initialize request",
        });
      }
      if (!(await this.#whenReady())) return notReady();
      const id = await this.#ids.issue();
      const [answer] = this.#router.open(id, m);
      return json(200, (answer as Out & { to: "session" }).message, { "Mcp-Session-Id": id });
    }
    const session = await this.#session(req);
    if (session instanceof Response) return session;
    if (batch && this.#router.protocolOf(session) !== "2025-03-26") {
      return json(
        400,
        failure(
          null,
          RPC_ERRORS.invalidRequest,
          `batches are not part of protocol ${this.#router.protocolOf(session)}`,
        ),
      );
    }
    if (!(await this.#whenReady())) return notReady();
    const headers = { "Mcp-Session-Id": session };
    if (batch) return await this.#postBatch(session, ms, headers);
    const m = ms[0]!;
    if (!isRequest(m)) {
      this.#dispatch(this.#router.fromClient(session, m));
      return new Response(null, { status: 202, headers });
    }
    const k = key(session, m.id);
    const exchange = new Exchange(m.id, headers);
    this.#exchanges.set(k, exchange);
    // A client that goes away before the answer: it goes to the session's GET stream instead.
    req.signal.addEventListener("abort", () => {
      if (this.#exchanges.get(k) === exchange) this.#exchanges.delete(k);
    }, { once: true });
    this.#dispatch(this.#router.fromClient(session, m));
    return await exchange.response;
  }

  /** A batch (protocol 2025-03-26): each message on its own; the answers together, as JSON. */
  async #postBatch(
    session: string,
    ms: RpcMessage[],
    headers: Record<string, string>,
  ): Promise<Response> {
    const answers = ms.filter(isRequest).map((m) =>
      new Promise<RpcMessage>((resolve) => this.#batched.set(key(session, m.id), resolve))
    );
    for (const m of ms) this.#dispatch(this.#router.fromClient(session, m));
    if (answers.length === 0) return new Response(null, { status: 202, headers });
    return json(200, await Promise.all(answers), headers);
  }

  async #get(req: Request): Promise<Response> {
    const session = await this.#session(req);
    if (session instanceof Response) return session;
    const stream = new SseStream({ "Mcp-Session-Id": session }, () => {
      const left = (this.#getStreams.get(session) ?? []).filter((s) => s !== stream);
      if (left.length) this.#getStreams.set(session, left);
      else this.#getStreams.delete(session);
    });
    this.#getStreams.set(session, [...(this.#getStreams.get(session) ?? []), stream]);
    for (const m of this.#buffered.get(session) ?? []) stream.send(m);
    this.#buffered.delete(session);
    return stream.response;
  }

  async #delete(req: Request): Promise<Response> {
    const session = await this.#session(req);
    if (session instanceof Response) return session;
    this.#dispatch(this.#router.close(session));
    this.#ended.add(session);
    for (const s of this.#getStreams.get(session) ?? []) s.close();
    this.#getStreams.delete(session);
    this.#buffered.delete(session);
    if (this.#opts.endedFile) {
      try {
        Deno.writeTextFileSync(this.#opts.endedFile, `${session}\n`, {
          append: true,
          mode: 0o600,
        });
      } catch {
        // Not kept across a restart of the daemon: the id would be re-created then.
      }
    }
    return new Response(null, { status: 200 });
  }
}

/** `serverInfo` and the protocol version of an `initialize` result, when it has them. */
function serverInfoOf(result: unknown): McpInfo | undefined {
  const r = asObject(result);
  const info = asObject(r?.serverInfo);
  if (!r || !info || typeof r.protocolVersion !== "string") return undefined;
  return {
    name: String(info.name ?? ""),
    version: String(info.version ?? ""),
    protocolVersion: r.protocolVersion,
    transport: "stdio",
  };
}

/** The body as text, or null past {@link MAX_BODY_BYTES}. */
async function readBody(req: Request): Promise<string | null> {
  if (!req.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return new TextDecoder().decode(all);
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...headers, "Content-Type": "application/json" },
  });
}

/** A refusal as a JSON-RPC error body, with its status and headers. */
function refuse(r: Refusal): Response {
  return json(r.status, failure(null, RPC_ERRORS.invalidRequest, r.message), { ...r.headers });
}

function notReady(): Response {
  return refuse({
    status: 503,
    message: "the server is not ready (it is starting, or restarting)",
    headers: { "Retry-After": String(RETRY_AFTER_S) },
  });
}

function cut(text: string): string {
  return text.length <= LOGGED_BYTES ? text : `${text.slice(0, LOGGED_BYTES)}… (${text.length} B)`;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
