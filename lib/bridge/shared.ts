/**
 * A stdio server whose one child serves every session (SPEC §11, `sharing
 * "shared"`, the default). Every message between the sessions and the child
 * goes through the router (router.ts, pure); this file does the I/O — the
 * child's pipes, xy's own requests — and answers the machine's probes.
 */
import type { McpInfo, ProbeResult } from "../health/probe.ts";
import type { PipeReader } from "../logs/capture.ts";
import {
  answerWithin,
  type Bridge,
  type BridgeOptions,
  type BridgeStatus,
  cut,
  initialized,
  isProbe,
  probeFailed,
  ReadyGate,
  readyProbe,
  xyInitialize,
} from "./bridge.ts";
import { ChildChannel } from "./child_channel.ts";
import { type Backend, Endpoint } from "./endpoint.ts";
import type { Refusal } from "./http_checks.ts";
import {
  asObject,
  failure,
  notification,
  RPC_ERRORS,
  type RpcId,
  type RpcMessage,
} from "./jsonrpc.ts";
import { LATEST_PROTOCOL, type Out, SharedRouter } from "./router.ts";

/** One stdio server's endpoint and shared child. */
export class SharedBridge implements Bridge, Backend {
  readonly #opts: BridgeOptions;
  readonly #endpoint: Endpoint;
  readonly #router = new SharedRouter();
  #channel: ChildChannel | null = null;
  #serverInfo: McpInfo | null = null;
  /** xy's own requests to the child, by id. */
  readonly #own = new Map<number, (m: RpcMessage) => void>();
  #initializing: Promise<RpcMessage> | null = null;
  /** Whether the child was ever initialized (a later initialize restores the sessions' state). */
  #everReady = false;
  /** Open while the child has answered xy's `initialize`. */
  readonly #ready = new ReadyGate();

  constructor(opts: BridgeOptions) {
    this.#opts = opts;
    this.#endpoint = new Endpoint({
      port: opts.port,
      token: opts.token,
      sessionKey: opts.sessionKey,
      ...(opts.endedFile ? { endedFile: opts.endedFile } : {}),
    }, this);
  }

  listen(describeTaken: (port: number) => Promise<string>): Promise<string | null> {
    return this.#endpoint.listen(describeTaken);
  }

  close(): Promise<void> {
    return this.#endpoint.close();
  }

  serverState(state: string): void {
    this.#endpoint.state = state;
    if (state === "stopping") {
      // A stop ends every session's streams; requests in flight get an error.
      this.#dispatch(this.#router.childGone("the server is stopping"));
      this.#endpoint.endStreams();
    }
  }

  attach(
    _pid: number,
    stdin: WritableStream<Uint8Array>,
    stdout: ReadableStream<Uint8Array>,
  ): PipeReader {
    this.#channel = new ChildChannel(stdin, stdout, {
      message: (m) => this.#fromChild(m),
      text: (line) => this.#opts.log(line),
    });
    return this.#channel;
  }

  childGone(why: string): void {
    this.#channel = null;
    this.#initializing = null;
    this.#ready.close();
    for (const settle of this.#own.values()) settle(failure(0, RPC_ERRORS.internal, why));
    this.#own.clear();
    this.#dispatch(this.#router.childGone(why));
  }

  closeInput(): void {
    void this.#channel?.closeInput();
  }

  async probe(timeoutMs: number): Promise<ProbeResult> {
    const t0 = performance.now();
    if (!this.#channel) return probeFailed("the server's process is not running", t0);
    const clock = this.#opts.clock;
    if (!this.#ready.isOpen) {
      this.#initializing ??= this.#ask(
        "initialize",
        xyInitialize(this.#opts.version, LATEST_PROTOCOL),
      );
      const m = await answerWithin(this.#initializing, "initialize", timeoutMs, t0, clock);
      this.#initializing = null;
      if (isProbe(m)) return m;
      const info = initialized(m, t0);
      if (isProbe(info)) return info;
      this.#toChild(notification("notifications/initialized"));
      this.#router.ready(asObject(m.result)!);
      this.#serverInfo = info;
      if (this.#everReady) this.#dispatch(this.#router.restore());
      this.#everReady = true;
      this.#ready.open();
      return readyProbe(info, t0);
    }
    const m = await answerWithin(this.#ask("ping"), "ping", timeoutMs, t0, clock);
    if (isProbe(m)) return m;
    return {
      status: "healthy",
      message: "ping answered",
      latencyMs: Math.round(performance.now() - t0),
    };
  }

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

  // ---- The endpoint's backend (endpoint.ts). ----

  whenReady(): Promise<boolean> {
    return this.#ready.wait(this.#opts.readyWaitMs, this.#opts.clock);
  }

  open(id: string, request: RpcMessage & { id: RpcId }): Promise<RpcMessage | Refusal> {
    const [answer] = this.#router.open(id, request);
    return Promise.resolve((answer as Out & { to: "session" }).message);
  }

  has(id: string): boolean {
    return this.#router.has(id);
  }

  reopen(id: string, protocolVersion: string): void {
    this.#router.reopen(id, protocolVersion);
  }

  protocolOf(id: string): string | undefined {
    return this.#router.protocolOf(id);
  }

  fromClient(id: string, m: RpcMessage): Promise<Refusal | null> {
    this.#dispatch(this.#router.fromClient(id, m));
    return Promise.resolve(null);
  }

  end(id: string): void {
    this.#dispatch(this.#router.close(id));
  }

  // ---- Messages. ----

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
          this.#endpoint.deliver(o.session, o.message, o.about);
          break;
      }
    }
  }
}
