/**
 * A stdio server that gives each session a child of its own (SPEC §11,
 * `sharing "per-session"`): for a server that keeps per-client state, or
 * that must see each client's own capabilities and roots.
 *
 * - A session's child starts at its `initialize`, which it is sent as the
 *   client sent it; it is stopped on DELETE, after `session-idle` with no
 *   request in flight and no stream open, or with the server. A later request
 *   of an idle session starts a child again and replays the `initialize`
 *   (xy's own, for a session re-created after a restart of the daemon).
 * - At `max-sessions` children, a session that needs one gets 503.
 * - The server is ready once the run's first child, started to check the
 *   command, has answered an `initialize` of xy's; it is then stopped.
 * - A child that exits on its own is reported (`sessionExited`): the
 *   machine counts it in the retry window and either starts it again
 *   ({@link PerSessionBridge.restartSession}) or fails the server.
 *
 * Every message between a session and its child goes through that session's
 * router (direct_router.ts, pure). The children themselves belong to the
 * supervisor's run ({@link ChildSource}): markers, logs, signals and crash
 * recovery as for every server process.
 */
import { deadline } from "../deadline.ts";
import { errorMessage } from "../error_message.ts";
import type { McpInfo, ProbeResult } from "../health/probe.ts";
import type { PipeReader } from "../logs/capture.ts";
import type { TimerId } from "../clock.ts";
import { systemClock } from "../clock.ts";
import {
  answerWithin,
  type Bridge,
  type BridgeOptions,
  type BridgeStatus,
  type ChildExit,
  cut,
  formatMs,
  initialized,
  isProbe,
  probeFailed,
  ReadyGate,
  readyProbe,
  xyInitialize,
} from "./bridge.ts";
import { ChildChannel } from "./child_channel.ts";
import { type DirectOut, DirectRouter } from "./direct_router.ts";
import { type Backend, Endpoint, unavailableRefusal } from "./endpoint.ts";
import type { Refusal } from "./http_checks.ts";
import {
  asObject,
  failure,
  isRequest,
  notification,
  result,
  RPC_ERRORS,
  type RpcId,
  type RpcMessage,
} from "./jsonrpc.ts";
import { LATEST_PROTOCOL, PROTOCOL_VERSIONS } from "./router.ts";

/** One more child of the server's run, for a session. */
export interface SessionChild {
  readonly pid: number;
  readonly stdin: WritableStream<Uint8Array>;
  readonly stdout: ReadableStream<Uint8Array>;
  /** Settles once it exited. */
  readonly exited: Promise<ChildExit>;
}

/** Where a per-session server's children come from: the supervisor's current run. */
export interface ChildSource {
  /** Starts a child of the current run; throws why it cannot (no run, or the spawn failed). */
  start(): SessionChild;
  /**
   * Stops child `pid`, whose stdin the bridge has closed: SIGTERM if it is
   * still there a moment later, SIGKILL after the grace. Its end is not the
   * run's (the run's first child, once checked, is stopped so).
   */
  stop(pid: number): void;
}

/** What a per-session bridge is made with, besides what every bridge is. */
export interface PerSessionOptions extends BridgeOptions {
  readonly maxSessions: number;
  readonly sessionIdleMs: number;
  readonly children: ChildSource;
  /** A session's child exited on its own: the machine decides whether it starts again. */
  readonly sessionExited: (session: string, exit: ChildExit) => void;
}

/** A session's live child. */
interface Live {
  readonly pid: number;
  readonly channel: ChildChannel;
  /** It answered the session's `initialize`: requests go to it. */
  ready: boolean;
}

/** A child xy speaks to through a router of its own: a session's, or the run's first. */
interface Link {
  readonly router: DirectRouter;
  /** xy's own requests to the child, by id. */
  readonly own: Map<number, (m: RpcMessage) => void>;
}

/** The run's first child, started to check the command: it talks to xy only. */
interface Check extends Link {
  readonly pid: number;
  readonly channel: ChildChannel;
}

interface Session extends Link {
  readonly id: string;
  protocolVersion: string;
  clientInfo: { readonly name?: string; readonly version?: string } | null;
  /** Its client's `initialize` params, replayed to each child; null for one re-created after a restart. */
  readonly initialize: Record<string, unknown> | null;
  child: Live | null;
  /** A child being started and initialized: settles with its answer, or why it could not. */
  starting: Promise<RpcMessage | string> | null;
  /** When it last had a request, an answer or an open stream. */
  lastActive: number;
  /** A child of it answered an `initialize` before: the next one is restored to where it was. */
  started: boolean;
}

/** How often, at most, idle sessions are looked for. */
const IDLE_SWEEP_MAX_MS = 60_000;

/** One per-session stdio server's endpoint and children. */
export class PerSessionBridge implements Bridge, Backend {
  readonly #opts: PerSessionOptions;
  readonly #endpoint: Endpoint;
  readonly #sessions = new Map<string, Session>();
  /** Every child's channel the bridge holds, by pid: all are closed when the server stops. */
  readonly #channels = new Map<number, ChildChannel>();
  /** The run's first child, until it is checked. */
  #check: Check | null = null;
  #initializing: Promise<RpcMessage> | null = null;
  /** Open once the run's first child answered xy's `initialize`: sessions may have children. */
  readonly #ready = new ReadyGate();
  #serverInfo: McpInfo | null = null;
  #state = "stopped";
  #idleTimer: TimerId | null = null;

  constructor(opts: PerSessionOptions) {
    this.#opts = opts;
    this.#endpoint = new Endpoint({
      port: opts.port,
      token: opts.token,
      sessionKey: opts.sessionKey,
      ...(opts.endedFile ? { endedFile: opts.endedFile } : {}),
    }, this);
  }

  get #clock() {
    return this.#opts.clock ?? systemClock;
  }

  listen(describeTaken: (port: number) => Promise<string>): Promise<string | null> {
    return this.#endpoint.listen(describeTaken);
  }

  async close(): Promise<void> {
    this.#cancelIdle();
    await this.#endpoint.close();
  }

  serverState(state: string): void {
    this.#state = state;
    this.#endpoint.state = state;
    if (state === "stopping") {
      // A stop ends every session's streams; requests in flight get an error. The
      // run stops the children; the sessions stay, for when the server starts again.
      for (const s of this.#sessions.values()) this.#detach(s, "the server is stopping");
      this.#endpoint.endStreams();
      this.#cancelIdle();
    }
  }

  attach(
    pid: number,
    stdin: WritableStream<Uint8Array>,
    stdout: ReadableStream<Uint8Array>,
  ): PipeReader {
    const check: Check = {
      pid,
      router: new DirectRouter(),
      own: new Map(),
      channel: new ChildChannel(stdin, stdout, {
        message: (m) => this.#fromChild(check, m),
        text: (line) => this.#opts.log(line),
      }),
    };
    this.#check = check;
    this.#ready.close();
    this.#initializing = null;
    return check.channel;
  }

  childGone(why: string): void {
    this.#ready.close();
    this.#initializing = null;
    if (this.#check) this.#settleOwn(this.#check, why);
    this.#check = null;
    for (const s of this.#sessions.values()) this.#detach(s, why);
    this.#channels.clear();
  }

  closeInput(): void {
    void this.#check?.channel.closeInput();
    for (const c of this.#channels.values()) void c.closeInput();
  }

  async probe(timeoutMs: number): Promise<ProbeResult> {
    const t0 = performance.now();
    return this.#ready.isOpen
      ? await this.#pingAll(timeoutMs, t0)
      : await this.#checkRun(timeoutMs, t0);
  }

  /** A child of the session started again, for the machine (the child before it exited on its own). */
  restartSession(id: string): void {
    const s = this.#sessions.get(id);
    if (!s || s.child || s.starting) return;
    void this.#ensureChild(s).then((why) => {
      if (why) this.#opts.log(`xy: session ${id.slice(0, 8)}: ${why}`);
    });
  }

  status(): BridgeStatus {
    let inflight = 0;
    const sessions = [...this.#sessions.values()].map((s) => {
      inflight += s.router.inflight;
      return {
        id: s.id.slice(0, 8),
        clientInfo: s.clientInfo,
        protocolVersion: s.protocolVersion,
        inflight: s.router.inflight,
        pid: s.child?.pid ?? null,
      };
    });
    return { serverInfo: this.#serverInfo, sessions, inflight };
  }

  // ---- The endpoint's backend (endpoint.ts). ----

  whenReady(): Promise<boolean> {
    return this.#ready.wait(this.#opts.readyWaitMs, this.#clock);
  }

  async open(id: string, request: RpcMessage & { id: RpcId }): Promise<RpcMessage | Refusal> {
    const p = asObject(request.params) ?? {};
    const asked = typeof p.protocolVersion === "string" ? p.protocolVersion : LATEST_PROTOCOL;
    const s = this.#newSession(id, supported(asked) ? asked : LATEST_PROTOCOL, {
      clientInfo: asObject(p.clientInfo) ?? null,
      initialize: p,
    });
    const answer = await this.#startChild(s);
    if (typeof answer === "string" || answer.error) {
      this.#sessions.delete(id);
      if (typeof answer === "string") return unavailableRefusal(answer);
      return { jsonrpc: "2.0", id: request.id, error: answer.error! };
    }
    const negotiated = asObject(answer.result)?.protocolVersion;
    if (typeof negotiated === "string" && supported(negotiated)) s.protocolVersion = negotiated;
    return result(request.id, answer.result);
  }

  has(id: string): boolean {
    return this.#sessions.has(id);
  }

  reopen(id: string, protocolVersion: string): void {
    if (!this.#sessions.has(id)) {
      this.#newSession(id, protocolVersion, { clientInfo: null, initialize: null });
    }
  }

  /** A session held from now on, with no child yet. */
  #newSession(
    id: string,
    protocolVersion: string,
    client: Pick<Session, "clientInfo" | "initialize">,
  ): Session {
    const s: Session = {
      id,
      protocolVersion,
      ...client,
      router: new DirectRouter(),
      child: null,
      starting: null,
      own: new Map(),
      lastActive: this.#clock.now(),
      started: false,
    };
    this.#sessions.set(id, s);
    return s;
  }

  protocolOf(id: string): string | undefined {
    return this.#sessions.get(id)?.protocolVersion;
  }

  async fromClient(id: string, m: RpcMessage): Promise<Refusal | null> {
    const s = this.#sessions.get(id);
    if (!s) return null;
    s.lastActive = this.#clock.now();
    if (isRequest(m) && m.method !== "ping" && !s.child?.ready) {
      // A request needs the session's child: started again if it was stopped or exited.
      const why = await this.#ensureChild(s);
      if (why) return unavailableRefusal(why);
    }
    if (this.#sessions.get(id) !== s) return null; // Ended meanwhile.
    this.#dispatch(s, s.router.fromClient(m));
    return null;
  }

  end(id: string): void {
    const s = this.#sessions.get(id);
    if (!s) return;
    this.#sessions.delete(id);
    this.#stopChild(s, "the client's session ended");
  }

  // ---- Children. ----

  /** The run's first child answers xy's `initialize`: the server is ready, and the child is stopped. */
  async #checkRun(timeoutMs: number, t0: number): Promise<ProbeResult> {
    const check = this.#check;
    if (!check) return probeFailed("the server's process is not running", t0);
    this.#initializing ??= this.#ask(
      check,
      "initialize",
      xyInitialize(this.#opts.version, LATEST_PROTOCOL),
    );
    const m = await answerWithin(this.#initializing, "initialize", timeoutMs, t0, this.#clock);
    this.#initializing = null;
    if (isProbe(m)) return m;
    const info = initialized(m, t0);
    if (isProbe(info)) return info;
    // Checked: it goes, and the server is ready for sessions' children.
    this.#check = null;
    void check.channel.closeInput();
    this.#opts.children.stop(check.pid);
    this.#serverInfo = info;
    this.#ready.open();
    return readyProbe(info, t0);
  }

  /** Every session's child answers a `ping`; the server is alive when all do. */
  async #pingAll(timeoutMs: number, t0: number): Promise<ProbeResult> {
    const live = [...this.#sessions.values()].filter((s) => s.child?.ready);
    const silent: string[] = [];
    await Promise.all(live.map(async (s) => {
      const pid = s.child!.pid;
      const m = await answerWithin(this.#ask(s, "ping"), "ping", timeoutMs, t0, this.#clock);
      // A child that exited meanwhile is the exit's business, not the probe's.
      if (isProbe(m) && s.child?.pid === pid) silent.push(`${s.id.slice(0, 8)}: ${m.message}`);
    }));
    if (silent.length > 0) {
      return probeFailed(
        `ping of ${silent.length} session process(es) failed: ${silent.join("; ")}`,
        t0,
      );
    }
    return {
      status: "healthy",
      message: live.length === 0
        ? "no session has a process"
        : `ping answered by ${live.length} session process(es)`,
      latencyMs: Math.round(performance.now() - t0),
    };
  }

  /** Starts the session's child unless it has one ready; resolves with why it could not, or null. */
  async #ensureChild(s: Session): Promise<string | null> {
    if (s.child?.ready) return null;
    const answer = await this.#startChild(s);
    if (typeof answer === "string") return answer;
    return answer.error ? `initialize failed: ${answer.error.message}` : null;
  }

  /**
   * Starts a child for session `s` (once, however many ask) and sends it the
   * session's `initialize`: settles with the child's answer, or why there is none.
   */
  #startChild(s: Session): Promise<RpcMessage | string> {
    s.starting ??= this.#spawnFor(s).finally(() => s.starting = null);
    return s.starting;
  }

  async #spawnFor(s: Session): Promise<RpcMessage | string> {
    if (!this.#ready.isOpen) return "the server is not ready (it is starting, or restarting)";
    const max = this.#opts.maxSessions;
    const live = [...this.#sessions.values()].filter((o) => o.child).length;
    if (live >= max) return `max-sessions ${max} reached: every session process is taken`;
    let c: SessionChild;
    try {
      c = this.#opts.children.start();
    } catch (e) {
      return `cannot start a process for the session: ${errorMessage(e)}`;
    }
    const channel = new ChildChannel(c.stdin, c.stdout, {
      message: (m) => {
        // A child xy let go of: nothing of it reaches the session.
        if (s.child?.pid === c.pid) this.#fromChild(s, m);
      },
      text: (line) => this.#opts.log(line),
    });
    const child: Live = { pid: c.pid, channel, ready: false };
    s.child = child;
    this.#channels.set(c.pid, channel);
    c.exited.then((exit) => this.#exited(s, c.pid, exit));
    const params = s.initialize ?? xyInitialize(this.#opts.version, s.protocolVersion);
    let m: RpcMessage;
    try {
      m = await deadline(this.#ask(s, "initialize", params), this.#opts.readyWaitMs, {
        onTimeout: () =>
          new Error(
            `the session's process did not answer initialize within ${
              formatMs(this.#opts.readyWaitMs)
            }`,
          ),
        clock: this.#clock,
      });
    } catch (e) {
      this.#stopChild(s, errorMessage(e));
      return errorMessage(e);
    }
    if (s.child !== child) return "the session's process exited before it answered initialize";
    if (m.error) {
      this.#stopChild(s, `initialize failed: ${m.error.message}`);
      return m;
    }
    this.#send(s, notification("notifications/initialized"));
    child.ready = true;
    if (s.started) this.#restore(s, m.result);
    s.started = true;
    s.lastActive = this.#clock.now();
    this.#armIdle();
    return m;
  }

  /** A child started again for its session: its level and subscriptions asked again, and the client told what may have changed. */
  #restore(s: Session, init: unknown) {
    this.#dispatch(s, s.router.restore());
    const caps = asObject(asObject(init)?.capabilities) ?? {};
    for (const what of ["tools", "resources", "prompts"]) {
      if (!asObject(caps[what])?.listChanged) continue;
      this.#endpoint.deliver(s.id, notification(`notifications/${what}/list_changed`));
    }
  }

  /** Child `pid` of session `s` exited: on its own unless xy had let go of it. */
  #exited(s: Session, pid: number, exit: ChildExit) {
    this.#channels.delete(pid);
    if (s.child?.pid !== pid) return; // Stopped by xy, which let go of it first.
    const why = `the session's process ${describe(exit)}`;
    this.#detach(s, why);
    if (this.#sessions.get(s.id) !== s || this.#state !== "running") return;
    this.#opts.sessionExited(s.id, exit);
  }

  /** Lets go of a session's child: requests in flight are answered with why. */
  #detach(s: Session, why: string) {
    if (!s.child) return;
    s.child = null;
    this.#settleOwn(s, why);
    this.#dispatch(s, s.router.childGone(why));
  }

  /** Stops a session's child: let go of first, its stdin closed, then signalled if it stays. */
  #stopChild(s: Session, why: string) {
    const c = s.child;
    if (!c) return;
    this.#detach(s, why);
    void c.channel.closeInput();
    this.#opts.children.stop(c.pid);
  }

  // ---- Idle sessions. ----

  #armIdle() {
    if (this.#idleTimer !== null) return;
    if (![...this.#sessions.values()].some((s) => s.child)) return;
    const every = Math.max(100, Math.min(this.#opts.sessionIdleMs / 4, IDLE_SWEEP_MAX_MS));
    this.#idleTimer = this.#clock.setTimeout(() => {
      this.#idleTimer = null;
      this.#sweepIdle();
      this.#armIdle();
    }, every);
  }

  #cancelIdle() {
    if (this.#idleTimer !== null) this.#clock.clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
  }

  /** Stops the child of each session with no request in flight and no stream open for `session-idle`. */
  #sweepIdle() {
    const now = this.#clock.now();
    for (const s of this.#sessions.values()) {
      if (!s.child?.ready || s.starting) continue;
      if (s.router.inflight > 0 || this.#endpoint.streaming(s.id)) {
        s.lastActive = now;
        continue;
      }
      if (now - s.lastActive < this.#opts.sessionIdleMs) continue;
      this.#stopChild(s, "the session was idle");
    }
  }

  // ---- Messages. ----

  /** Asks `link`'s child something of xy's own; resolves with its answer (or an error if it goes). */
  #ask(
    link: Session | Check,
    method: string,
    params?: Record<string, unknown>,
  ): Promise<RpcMessage> {
    const { id, out } = link.router.own(method, params);
    const answer = new Promise<RpcMessage>((resolve) => link.own.set(id, resolve));
    this.#dispatch(link, [out]);
    return answer;
  }

  /** xy's own requests to `link`'s child, answered with why it is gone. */
  #settleOwn(link: Link, why: string) {
    for (const settle of link.own.values()) settle(failure(0, RPC_ERRORS.internal, why));
    link.own.clear();
  }

  #fromChild(link: Session | Check, m: RpcMessage) {
    if (this.#opts.logMessages) this.#opts.log(`← ${cut(JSON.stringify(m))}`);
    this.#dispatch(link, link.router.fromChild(m));
  }

  #send(link: Session | Check, m: RpcMessage) {
    if (this.#opts.logMessages) this.#opts.log(`→ ${cut(JSON.stringify(m))}`);
    ("id" in link ? link.child?.channel : link.channel)?.send(m);
  }

  #dispatch(link: Session | Check, outs: readonly DirectOut[]) {
    for (const o of outs) {
      switch (o.to) {
        case "child":
          this.#send(link, o.message);
          break;
        case "xy": {
          const settle = link.own.get(o.id);
          link.own.delete(o.id);
          settle?.(o.message);
          break;
        }
        case "client":
          // The run's first child has no client: what it says to one goes nowhere.
          if (!("id" in link)) break;
          link.lastActive = this.#clock.now();
          this.#endpoint.deliver(link.id, o.message, o.about);
          break;
      }
    }
  }
}

function supported(version: string): boolean {
  return (PROTOCOL_VERSIONS as readonly string[]).includes(version);
}

function describe(exit: ChildExit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
}
