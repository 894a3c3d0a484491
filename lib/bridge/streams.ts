/**
 * How messages reach a client over HTTP: a server-sent-events stream (a GET
 * stream, or a POST's once it needs one), and the answer of one POST, which
 * is plain JSON when the first message about its request is the request's
 * answer, and an SSE stream when notifications or requests about it come
 * first (SPEC §11) — or from the start, for a client whose `Accept` names
 * `text/event-stream` before `application/json` ({@link prefersStream}).
 */
import { isResponse, type RpcId, type RpcMessage } from "./jsonrpc.ts";

const encoder = new TextEncoder();

/** One SSE event carrying `m`. */
export function sseEvent(m: RpcMessage): Uint8Array {
  return encoder.encode(`event: message\ndata: ${JSON.stringify(m)}\n\n`);
}

/** An open SSE stream to a client. */
export class SseStream {
  readonly response: Response;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #closed = false;
  readonly #onClose: () => void;

  /** `onClose` runs once, whoever closes it: the client going away, or {@link close}. */
  constructor(headers: Readonly<Record<string, string>>, onClose: () => void = () => {}) {
    this.#onClose = onClose;
    const body = new ReadableStream<Uint8Array>({
      start: (c) => void (this.#controller = c),
      cancel: () => this.#ended(),
    });
    this.response = new Response(body, {
      status: 200,
      headers: { ...headers, "Content-Type": "text/event-stream", "Cache-Control": "no-cache" },
    });
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends `m`; false once the stream is closed. */
  send(m: RpcMessage): boolean {
    if (this.#closed) return false;
    try {
      this.#controller.enqueue(sseEvent(m));
      return true;
    } catch {
      this.#ended();
      return false;
    }
  }

  /** Ends the stream. */
  close(): void {
    if (this.#closed) return;
    try {
      this.#controller.close();
    } catch {
      // Already errored or closed by the client.
    }
    this.#ended();
  }

  #ended() {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
  }
}

/** The answer to one POSTed request, as messages about it come. */
export class Exchange {
  readonly response: Promise<Response>;
  readonly #resolve: (r: Response) => void;
  readonly #headers: Readonly<Record<string, string>>;
  #stream: SseStream | null = null;
  #done = false;

  readonly #streamFirst: boolean;

  /** `streamFirst`: an SSE stream whatever comes first (the client prefers one). */
  constructor(
    readonly requestId: RpcId,
    headers: Readonly<Record<string, string>>,
    streamFirst = false,
  ) {
    let resolve!: (r: Response) => void;
    this.response = new Promise((r) => resolve = r);
    this.#resolve = resolve;
    this.#headers = headers;
    this.#streamFirst = streamFirst;
  }

  /** True once the request's answer went out (or the client went away). */
  get done(): boolean {
    return this.#done;
  }

  /**
   * A message about the request: its answer ends the exchange (as JSON when
   * nothing came before it); anything else opens, or goes on, an SSE stream.
   */
  push(m: RpcMessage): void {
    if (this.#done) return;
    const answer = isResponse(m) && m.id === this.requestId;
    if (this.#stream === null && answer && !this.#streamFirst) {
      this.#done = true;
      this.#resolve(
        new Response(JSON.stringify(m), {
          status: 200,
          headers: { ...this.#headers, "Content-Type": "application/json" },
        }),
      );
      return;
    }
    if (this.#stream === null) {
      this.#stream = new SseStream(this.#headers, () => this.#done = true);
      this.#resolve(this.#stream.response);
    }
    this.#stream.send(m);
    if (answer) {
      this.#done = true;
      this.#stream.close();
    }
  }

  /** Ends the exchange without an answer (the server stops): an open stream closes. */
  end(): void {
    this.#done = true;
    this.#stream?.close();
  }
}

/**
 * Whether a client prefers an SSE stream to plain JSON: its `Accept` names
 * `text/event-stream` before `application/json` (a client must accept both;
 * the order is the only preference it can state without weights).
 */
export function prefersStream(accept: string | null): boolean {
  const types = (accept ?? "").split(",").map((t) => t.split(";")[0]!.trim().toLowerCase());
  const sse = types.indexOf("text/event-stream");
  const json = types.indexOf("application/json");
  return sse >= 0 && (json < 0 || sse < json);
}
