/**
 * A stdio server's HTTP endpoint (SPEC §11): Streamable HTTP at
 * `http://127.0.0.1:<port>/mcp`, whatever serves the sessions behind it — one
 * shared child (shared.ts), or a child per session (per_session.ts). It
 * checks each request (http_checks.ts), keeps the sessions' ids (signed:
 * session_ids.ts), answers each POSTed request as plain JSON or an SSE
 * stream (streams.ts), holds the sessions' GET streams, and answers 503 while
 * the server is failed or stopping.
 */
import { checkRequest, MAX_BODY_BYTES, type Refusal, tooLarge } from "./http_checks.ts";
import {
  asMessage,
  failure,
  isRequest,
  isResponse,
  RPC_ERRORS,
  type RpcId,
  type RpcMessage,
} from "./jsonrpc.ts";
import { PROTOCOL_VERSIONS } from "./router.ts";
import { SessionIds } from "./session_ids.ts";
import { Exchange, prefersStream, SseStream } from "./streams.ts";

/** What serves the sessions behind an endpoint. */
export interface Backend {
  /** Resolves true once requests can go through, false when that did not come in time (503). */
  whenReady(): Promise<boolean>;
  /** Opens session `id` for its client's `initialize`: its answer, or why not (503 at max sessions). */
  open(id: string, request: RpcMessage & { id: RpcId }): Promise<RpcMessage | Refusal>;
  /** Whether session `id` is held. */
  has(id: string): boolean;
  /** Holds again a session xy issued and no longer holds (after a restart), at `protocolVersion`. */
  reopen(id: string, protocolVersion: string): void;
  /** The protocol version session `id` speaks. */
  protocolOf(id: string): string | undefined;
  /** One message of a client: what comes of it is delivered later; a refusal ends its request. */
  fromClient(id: string, m: RpcMessage): Promise<Refusal | null>;
  /** Session `id` ended for good (its client's DELETE). */
  end(id: string): void;
}

/** What an endpoint is made with. */
export interface EndpointOptions {
  readonly port: number;
  /** The bearer token requests must carry; null for `auth "none"`. */
  readonly token: string | null;
  /** The key session ids are signed with. */
  readonly sessionKey: Uint8Array;
  /** Where the ids of sessions ended by DELETE are kept, so they stay ended. */
  readonly endedFile?: string;
}

/** The server states in which requests get 503. */
const UNAVAILABLE = new Set(["failed", "stopping"]);
/** How long a client is told to wait before it asks again after a 503. */
const RETRY_AFTER_S = 2;
/** Messages kept for a session that has no GET stream open. */
const MAX_BUFFERED = 1000;

const key = (session: string, id: RpcId) => `${session}\0${JSON.stringify(id)}`;

/** One stdio server's endpoint. */
export class Endpoint {
  readonly #opts: EndpointOptions;
  readonly #backend: Backend;
  readonly #ids: SessionIds;
  /** Sessions a client ended with DELETE: 404 from then on. */
  readonly #ended = new Set<string>();
  #server: Deno.HttpServer | null = null;
  #state = "stopped";
  /** POSTed requests waiting for their answer, by session and id. */
  readonly #exchanges = new Map<string, Exchange>();
  /** Batched requests waiting for their answer (always JSON), by session and id. */
  readonly #batched = new Map<string, (m: RpcMessage) => void>();
  readonly #getStreams = new Map<string, SseStream[]>();
  readonly #buffered = new Map<string, RpcMessage[]>();

  constructor(opts: EndpointOptions, backend: Backend) {
    this.#opts = opts;
    this.#backend = backend;
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

  /**
   * Starts listening on `127.0.0.1:<port>`; resolves with why it could not
   * (the port is taken), or null. An endpoint that listens already stays as it is.
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
    this.endStreams();
    const server = this.#server;
    this.#server = null;
    await server?.shutdown();
  }

  /** The server's state: while it is failed or stopping, requests get 503. */
  set state(state: string) {
    this.#state = state;
  }

  /** A message for a session: on the stream of the request it is about, else its GET stream. */
  deliver(session: string, m: RpcMessage, about?: RpcId): void {
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
    if (streams.at(-1)?.send(m)) return;
    const held = this.#buffered.get(session) ?? [];
    held.push(m);
    if (held.length > MAX_BUFFERED) held.shift();
    this.#buffered.set(session, held);
  }

  /** Ends every open exchange and GET stream. */
  endStreams(): void {
    for (const e of this.#exchanges.values()) e.end();
    this.#exchanges.clear();
    for (const streams of this.#getStreams.values()) for (const s of streams) s.close();
    this.#getStreams.clear();
  }

  async #handle(req: Request): Promise<Response> {
    const refusal = checkRequest(req, { port: this.#opts.port, token: this.#opts.token });
    if (refusal) return refuse(refusal);
    if (new URL(req.url).pathname !== "/mcp") {
      return refuse({ status: 404, message: "not found: the MCP endpoint is /mcp" });
    }
    if (UNAVAILABLE.has(this.#state)) return unavailable(`the server is ${this.#state}`);
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
    // A session held was verified when it was opened or re-created: no HMAC on every request.
    if (this.#ended.has(id) || (!this.#backend.has(id) && !(await this.#ids.verify(id)))) {
      return refuse({ status: 404, message: "no such session: initialize again" });
    }
    if (!this.#backend.has(id)) {
      this.#backend.reopen(id, req.headers.get("mcp-protocol-version") ?? "2025-03-26");
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
      if (!(await this.#backend.whenReady())) return notReady();
      const id = await this.#ids.issue();
      const answer = await this.#backend.open(id, m);
      if ("status" in answer) return refuse(answer);
      return json(200, answer, { "Mcp-Session-Id": id });
    }
    const session = await this.#session(req);
    if (session instanceof Response) return session;
    const protocol = this.#backend.protocolOf(session);
    if (batch && protocol !== "2025-03-26") {
      return json(
        400,
        failure(null, RPC_ERRORS.invalidRequest, `batches are not part of protocol ${protocol}`),
      );
    }
    if (!(await this.#backend.whenReady())) return notReady();
    const headers = { "Mcp-Session-Id": session };
    if (batch) return await this.#postBatch(session, ms, headers);
    const m = ms[0]!;
    if (!isRequest(m)) {
      const refused = await this.#backend.fromClient(session, m);
      return refused ? refuse(refused) : new Response(null, { status: 202, headers });
    }
    const k = key(session, m.id);
    // Not watched for the client going away (`req.signal`): Deno.serve aborts that signal after
    // every answer too, and warns. An answer whose client left is written to nobody.
    const exchange = new Exchange(m.id, headers, prefersStream(req.headers.get("accept")));
    this.#exchanges.set(k, exchange);
    const refused = await this.#backend.fromClient(session, m);
    if (refused) {
      this.#exchanges.delete(k);
      return refuse(refused);
    }
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
    for (const m of ms) {
      const refused = await this.#backend.fromClient(session, m);
      if (refused) return refuse(refused);
    }
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
    this.#backend.end(session);
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

  /** Whether session `id` has a GET stream open (a per-session child is not idle then). */
  streaming(id: string): boolean {
    return (this.#getStreams.get(id) ?? []).some((s) => !s.closed);
  }
}

/** The body as text, or null past {@link MAX_BODY_BYTES}. */
async function readBody(req: Request): Promise<string | null> {
  if (!req.body) return "";
  // Its length said (and checked against the limit): read at once, not chunk by chunk.
  if (req.headers.get("content-length") !== null) return await req.text();
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

/** 503, and when to ask again. */
export function unavailableRefusal(message: string): Refusal {
  return { status: 503, message, headers: { "Retry-After": String(RETRY_AFTER_S) } };
}

function unavailable(message: string): Response {
  return refuse(unavailableRefusal(message));
}

function notReady(): Response {
  return unavailable("the server is not ready (it is starting, or restarting)");
}
