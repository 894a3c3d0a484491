/**
 * The shared child's router: many client sessions on one stdio child, as
 * SPEC §11 says, pure — messages in, messages out, per session; no I/O, no
 * clock. The bridge (bridge.ts) feeds it what clients and the child send and
 * carries out what it answers.
 *
 * - Request ids are rewritten: every request the child sees carries an id of
 *   xy's, so two sessions' ids never collide; its answer goes back to the one
 *   session that asked, under that session's own id.
 * - Progress tokens are rewritten alike, and progress reaches only the
 *   session whose request it is about.
 * - `notifications/cancelled` is mapped to the child's id; a later answer or
 *   progress of a cancelled request is dropped.
 * - `resources/subscribe` is counted per URI: the child sees the first
 *   subscribe and the last unsubscribe; `resources/updated` reaches only the
 *   sessions subscribed.
 * - `logging/setLevel` is kept per session: the child gets the most verbose
 *   level asked, and a log message reaches each session at or above its own
 *   level (every message, for a session that never set one).
 * - `list_changed` notifications reach every session.
 * - A request from the child (sampling, elicitation, roots) goes to a session
 *   only when exactly one session has requests in flight on the child and its
 *   client declared that capability; otherwise the child is answered at once
 *   with an error, so it never hangs. The child's `ping` is answered here.
 * - Tasks (2025-11-25) belong to the session that created them: another
 *   session can neither list nor act on them.
 */
import {
  asObject,
  failure,
  isNotification,
  isRequest,
  isResponse,
  notification,
  result,
  RPC_ERRORS,
  type RpcId,
  type RpcMessage,
} from "./jsonrpc.ts";

/** Where a message goes: to the child, to a session (`about`: the client request it concerns), or to xy itself. */
export type Out =
  | { readonly to: "child"; readonly message: RpcMessage }
  | {
    readonly to: "session";
    readonly session: string;
    readonly message: RpcMessage;
    readonly about?: RpcId;
  }
  | { readonly to: "xy"; readonly id: number; readonly message: RpcMessage };

/** The protocol versions a session may speak, oldest first. */
export const PROTOCOL_VERSIONS = ["2025-03-26", "2025-06-18", "2025-11-25"] as const;
/** The newest: what xy asks of a child, and answers a client that asks for one it does not know. */
export const LATEST_PROTOCOL = "2025-11-25";

/** Log levels, most verbose first (RFC 5424's, as MCP has them). */
export const LOG_LEVELS = [
  "debug",
  "info",
  "notice",
  "warning",
  "error",
  "critical",
  "alert",
  "emergency",
] as const;
type LogLevel = typeof LOG_LEVELS[number];

/** What a session's client said of itself at `initialize`. */
export interface SessionInfo {
  readonly protocolVersion: string;
  readonly capabilities: Record<string, unknown>;
  readonly clientInfo: { readonly name?: string; readonly version?: string } | null;
}

interface Session extends SessionInfo {
  logLevel: LogLevel | null;
  readonly subscriptions: Set<string>;
  readonly tasks: Set<string>;
  /** Its requests in flight on the child: client id (keyed) → child id. */
  readonly inflight: Map<string, number>;
}

/** A client request forwarded to the child under an id of xy's. */
interface Forward {
  readonly session: string;
  readonly clientId: RpcId;
  readonly method: string;
  readonly params: Record<string, unknown> | undefined;
  /** The client's progress token, and the child's in its place. */
  readonly progress?: { readonly client: unknown; readonly child: string };
  cancelled: boolean;
}

/** A request of the child's, forwarded to a session under an id of xy's. */
interface Asked {
  readonly session: string;
  readonly childId: RpcId;
}

/** What {@link SharedRouter.status} says: sessions and requests in flight. */
export interface RouterStatus {
  readonly sessions: readonly (SessionInfo & { readonly id: string; readonly inflight: number })[];
  readonly inflight: number;
}

const key = (id: RpcId) => JSON.stringify(id);

/** Which capability a client must have declared to be asked a request of the child's. */
const ASKS: Readonly<Record<string, string>> = {
  "sampling/createMessage": "sampling",
  "elicitation/create": "elicitation",
  "roots/list": "roots",
};

/** Notifications every session gets. */
const TO_ALL = new Set([
  "notifications/tools/list_changed",
  "notifications/resources/list_changed",
  "notifications/prompts/list_changed",
]);

/** The router of one shared child. */
export class SharedRouter {
  readonly #sessions = new Map<string, Session>();
  readonly #forwards = new Map<number, Forward>();
  /** The child's progress token → the id of the request it belongs to. */
  readonly #progress = new Map<string, number>();
  /** Requests of the child's asked of a session: the session-side id → where it came from. */
  readonly #asked = new Map<string, Asked>();
  /** Requests of xy's own on the child (initialize, ping, bookkeeping). */
  readonly #own = new Set<number>();
  /** URI → the sessions subscribed to it. */
  readonly #subscribers = new Map<string, Set<string>>();
  /** The level the child was last told, if any. */
  #childLevel: LogLevel | null = null;
  /** The child's answer to xy's `initialize`: null until it is ready. */
  #init: Record<string, unknown> | null = null;
  #nextId = 1;
  #nextAsk = 1;

  /** The child's `initialize` result, once it is ready. */
  get init(): Record<string, unknown> | null {
    return this.#init;
  }

  /** A request of xy's own to the child: the child's answer comes back as `{ to: "xy", id }`. */
  own(method: string, params?: Record<string, unknown>): { id: number; out: Out } {
    const id = this.#nextId++;
    this.#own.add(id);
    return {
      id,
      out: { to: "child", message: { jsonrpc: "2.0", id, method, ...(params ? { params } : {}) } },
    };
  }

  /** The child answered xy's `initialize`: requests can go to it. */
  ready(init: Record<string, unknown>): void {
    this.#init = init;
  }

  /** Whether session `id` is open. */
  has(id: string): boolean {
    return this.#sessions.has(id);
  }

  /**
   * Opens session `id` as its client's `initialize` asked, and answers that
   * request from the child's result: the client's protocol version where xy
   * speaks it, the child's capabilities with `listChanged` for what it offers.
   */
  open(id: string, request: RpcMessage & { id: RpcId }): Out[] {
    const p = asObject(request.params) ?? {};
    const asked = typeof p.protocolVersion === "string" ? p.protocolVersion : LATEST_PROTOCOL;
    const info: SessionInfo = {
      protocolVersion: (PROTOCOL_VERSIONS as readonly string[]).includes(asked)
        ? asked
        : LATEST_PROTOCOL,
      capabilities: asObject(p.capabilities) ?? {},
      clientInfo: asObject(p.clientInfo) ?? null,
    };
    this.#sessions.set(id, {
      ...info,
      logLevel: null,
      subscriptions: new Set(),
      tasks: new Set(),
      inflight: new Map(),
    });
    return [{
      to: "session",
      session: id,
      message: result(request.id, this.#answerInit(info.protocolVersion)),
      about: request.id,
    }];
  }

  /**
   * Re-creates session `id` that a client still holds (after the daemon, the
   * server or the child restarted): its protocol version from the request's
   * header; subscriptions and log level start afresh.
   */
  reopen(id: string, protocolVersion: string): void {
    if (this.#sessions.has(id)) return;
    this.#sessions.set(id, {
      protocolVersion,
      capabilities: {},
      clientInfo: null,
      logLevel: null,
      subscriptions: new Set(),
      tasks: new Set(),
      inflight: new Map(),
    });
  }

  /** The protocol version session `id` speaks. */
  protocolOf(id: string): string | undefined {
    return this.#sessions.get(id)?.protocolVersion;
  }

  /** One message from a client of session `id`. */
  fromClient(id: string, m: RpcMessage): Out[] {
    const s = this.#sessions.get(id);
    if (!s) return [];
    if (isRequest(m)) return this.#clientRequest(id, s, m);
    if (isResponse(m)) return this.#clientResponse(id, m);
    if (isNotification(m)) return this.#clientNotification(s, m);
    return [];
  }

  /** One message from the child. */
  fromChild(m: RpcMessage): Out[] {
    if (isResponse(m)) return this.#childResponse(m);
    if (isRequest(m)) return this.#childRequest(m);
    if (isNotification(m)) return this.#childNotification(m);
    return [];
  }

  /**
   * Session `id` ended (its client's DELETE): its requests in flight are
   * cancelled at the child, its subscriptions dropped (the child sees the
   * last unsubscribe), and what the child asked of it is answered with an error.
   */
  close(id: string): Out[] {
    const s = this.#sessions.get(id);
    if (!s) return [];
    const out: Out[] = [];
    for (const childId of s.inflight.values()) {
      const f = this.#forwards.get(childId);
      if (f) f.cancelled = true;
      out.push({
        to: "child",
        message: notification("notifications/cancelled", {
          requestId: childId,
          reason: "the client's session ended",
        }),
      });
    }
    for (const [askId, a] of this.#asked) {
      if (a.session !== id) continue;
      this.#asked.delete(askId);
      out.push({
        to: "child",
        message: failure(a.childId, RPC_ERRORS.internal, "the client's session ended"),
      });
    }
    for (const uri of s.subscriptions) out.push(...this.#unsubscribe(id, uri));
    this.#sessions.delete(id);
    out.push(...this.#levelChanged());
    return out;
  }

  /**
   * The child is gone: every request in flight is answered at once with an
   * error saying so, and the child is not ready until it answers xy's
   * `initialize` again. Sessions stay, and so do their subscriptions and levels.
   */
  childGone(why: string): Out[] {
    const out: Out[] = [];
    for (const f of this.#forwards.values()) {
      this.#sessions.get(f.session)?.inflight.delete(key(f.clientId));
      if (f.cancelled) continue;
      out.push({
        to: "session",
        session: f.session,
        message: failure(f.clientId, RPC_ERRORS.internal, `${why}; the request was not answered`),
        about: f.clientId,
      });
    }
    this.#forwards.clear();
    this.#progress.clear();
    this.#asked.clear();
    this.#own.clear();
    this.#init = null;
    this.#childLevel = null;
    return out;
  }

  /**
   * After the child was initialized again: the log level and subscriptions
   * sessions hold are asked of it again, and every session is told that what
   * the child offers may have changed.
   */
  restore(): Out[] {
    const out: Out[] = [...this.#levelChanged()];
    for (const uri of this.#subscribers.keys()) {
      out.push(this.own("resources/subscribe", { uri }).out);
    }
    const caps = asObject(this.#init?.capabilities) ?? {};
    for (const what of ["tools", "resources", "prompts"]) {
      if (!caps[what]) continue;
      for (const id of this.#sessions.keys()) {
        out.push({
          to: "session",
          session: id,
          message: notification(`notifications/${what}/list_changed`),
        });
      }
    }
    return out;
  }

  /** Sessions and requests in flight, for `xy status`. */
  status(): RouterStatus {
    return {
      sessions: [...this.#sessions].map(([id, s]) => ({
        id,
        protocolVersion: s.protocolVersion,
        capabilities: s.capabilities,
        clientInfo: s.clientInfo,
        inflight: s.inflight.size,
      })),
      inflight: this.#forwards.size,
    };
  }

  /** What a session's `initialize` is answered with. */
  #answerInit(protocolVersion: string): Record<string, unknown> {
    const init = this.#init ?? {};
    const caps = { ...(asObject(init.capabilities) ?? {}) };
    // xy may announce changes after a restart of the child, whatever the child does.
    for (const what of ["tools", "resources", "prompts"]) {
      const c = asObject(caps[what]);
      if (c) caps[what] = { ...c, listChanged: true };
    }
    return {
      ...init,
      protocolVersion,
      capabilities: caps,
    };
  }

  #clientRequest(id: string, s: Session, m: RpcMessage & { method: string; id: RpcId }): Out[] {
    const answer = (value: unknown): Out[] => [
      { to: "session", session: id, message: result(m.id, value), about: m.id },
    ];
    const refuse = (code: number, message: string): Out[] => [
      { to: "session", session: id, message: failure(m.id, code, message), about: m.id },
    ];
    const p = asObject(m.params) ?? {};
    switch (m.method) {
      case "initialize":
        return answer(this.#answerInit(s.protocolVersion));
      case "ping":
        return answer({});
      case "logging/setLevel": {
        const level = p.level;
        if (!(LOG_LEVELS as readonly unknown[]).includes(level)) {
          return refuse(RPC_ERRORS.invalidParams, `unknown log level ${JSON.stringify(level)}`);
        }
        s.logLevel = level as LogLevel;
        return [...this.#levelChanged(), ...answer({})];
      }
      case "resources/subscribe":
      case "resources/unsubscribe": {
        const uri = p.uri;
        if (typeof uri !== "string") {
          return refuse(RPC_ERRORS.invalidParams, "uri must be a string");
        }
        const subscribed = this.#subscribers.get(uri);
        if (m.method === "resources/subscribe") {
          s.subscriptions.add(uri);
          // The child is asked the first time only; the others share its subscription.
          if (subscribed && subscribed.size > 0) {
            subscribed.add(id);
            return answer({});
          }
          this.#subscribers.set(uri, new Set([id]));
          return this.#forward(id, s, m);
        }
        s.subscriptions.delete(uri);
        if (!subscribed?.has(id)) return answer({});
        subscribed.delete(id);
        if (subscribed.size > 0) return answer({});
        this.#subscribers.delete(uri);
        return this.#forward(id, s, m);
      }
      case "tasks/get":
      case "tasks/result":
      case "tasks/cancel": {
        const task = p.taskId;
        if (typeof task !== "string" || !s.tasks.has(task)) {
          return refuse(
            RPC_ERRORS.invalidParams,
            `no task ${JSON.stringify(task)} of this session`,
          );
        }
        return this.#forward(id, s, m);
      }
      default:
        return this.#forward(id, s, m);
    }
  }

  /** Sends a client's request on to the child under an id of xy's (and its progress token). */
  #forward(id: string, s: Session, m: RpcMessage & { method: string; id: RpcId }): Out[] {
    const childId = this.#nextId++;
    const params = asObject(m.params);
    const meta = asObject(params?.["_meta"]);
    let progress: Forward["progress"];
    let sent = params;
    if (meta && meta.progressToken !== undefined) {
      progress = { client: meta.progressToken, child: `xy-${childId}` };
      this.#progress.set(progress.child, childId);
      sent = { ...params, _meta: { ...meta, progressToken: progress.child } };
    }
    this.#forwards.set(childId, {
      session: id,
      clientId: m.id,
      method: m.method,
      params,
      ...(progress ? { progress } : {}),
      cancelled: false,
    });
    s.inflight.set(key(m.id), childId);
    return [{
      to: "child",
      message: { jsonrpc: "2.0", id: childId, method: m.method, ...(sent ? { params: sent } : {}) },
    }];
  }

  /** A client answered what the child asked it: the answer goes back under the child's id. */
  #clientResponse(id: string, m: RpcMessage & { id: RpcId }): Out[] {
    const k = String(m.id);
    const a = this.#asked.get(k);
    if (!a || a.session !== id) return [];
    this.#asked.delete(k);
    const back: RpcMessage = m.error
      ? { jsonrpc: "2.0", id: a.childId, error: m.error }
      : { jsonrpc: "2.0", id: a.childId, result: m.result };
    return [{ to: "child", message: back }];
  }

  #clientNotification(s: Session, m: RpcMessage & { method: string }): Out[] {
    switch (m.method) {
      case "notifications/initialized":
        return []; // The child was initialized once, by xy.
      case "notifications/cancelled": {
        const p = asObject(m.params) ?? {};
        const requestId = p.requestId;
        if (typeof requestId !== "string" && typeof requestId !== "number") return [];
        const childId = s.inflight.get(key(requestId));
        const f = childId === undefined ? undefined : this.#forwards.get(childId);
        if (!f || childId === undefined) return [];
        f.cancelled = true;
        return [{
          to: "child",
          message: notification("notifications/cancelled", { ...p, requestId: childId }),
        }];
      }
      case "notifications/roots/list_changed":
        return []; // xy declared no roots to the child: a shared child keeps its own.
      default:
        return [{ to: "child", message: m }];
    }
  }

  #childResponse(m: RpcMessage & { id: RpcId }): Out[] {
    if (typeof m.id !== "number") return [];
    if (this.#own.delete(m.id)) return [{ to: "xy", id: m.id, message: m }];
    const f = this.#forwards.get(m.id);
    if (!f) return []; // Cancelled long ago, or of a child that has since restarted.
    this.#forwards.delete(m.id);
    if (f.progress) this.#progress.delete(f.progress.child);
    const s = this.#sessions.get(f.session);
    s?.inflight.delete(key(f.clientId));
    if (f.cancelled || !s) return [];
    let value = m.result;
    if (!m.error) value = this.#afterAnswer(f, s, value);
    else if (f.method === "resources/subscribe") this.#unsubscribeLocally(f);
    const back: RpcMessage = m.error
      ? { jsonrpc: "2.0", id: f.clientId, error: m.error }
      : { jsonrpc: "2.0", id: f.clientId, result: value };
    return [{ to: "session", session: f.session, message: back, about: f.clientId }];
  }

  /** What an answer tells of the session's tasks; a task list is cut to the session's own. */
  #afterAnswer(f: Forward, s: Session, value: unknown): unknown {
    const r = asObject(value);
    const task = asObject(r?.task);
    if (task && typeof task.taskId === "string") s.tasks.add(task.taskId);
    if (f.method === "tasks/list" && r && Array.isArray(r.tasks)) {
      return {
        ...r,
        tasks: r.tasks.filter((t) => s.tasks.has(String(asObject(t)?.taskId))),
      };
    }
    return value;
  }

  /** A subscribe the child refused: nobody holds it. */
  #unsubscribeLocally(f: Forward) {
    const uri = f.params?.uri;
    if (typeof uri !== "string") return;
    const set = this.#subscribers.get(uri);
    set?.delete(f.session);
    if (set?.size === 0) this.#subscribers.delete(uri);
    this.#sessions.get(f.session)?.subscriptions.delete(uri);
  }

  #childRequest(m: RpcMessage & { method: string; id: RpcId }): Out[] {
    if (m.method === "ping") return [{ to: "child", message: result(m.id, {}) }];
    const refuse = (code: number, why: string): Out[] => [
      { to: "child", message: failure(m.id, code, why) },
    ];
    const busy = [...this.#sessions].filter(([, s]) => s.inflight.size > 0);
    if (busy.length !== 1) {
      return refuse(
        RPC_ERRORS.internal,
        `${m.method}: no single client to ask (${busy.length} sessions have requests in flight)`,
      );
    }
    const [id, s] = busy[0]!;
    const capability = ASKS[m.method];
    if (capability !== undefined && !asObject(s.capabilities[capability])) {
      return refuse(
        RPC_ERRORS.methodNotFound,
        `${m.method}: the client did not declare ${capability}`,
      );
    }
    const askId = `xy-ask-${this.#nextAsk++}`;
    this.#asked.set(askId, { session: id, childId: m.id });
    // About the session's request in flight, when there is one only: it goes on that stream.
    const about = s.inflight.size === 1
      ? this.#clientIdOf(s.inflight.values().next().value!)
      : undefined;
    return [{
      to: "session",
      session: id,
      message: {
        jsonrpc: "2.0",
        id: askId,
        method: m.method,
        ...(m.params ? { params: m.params } : {}),
      },
      ...(about === undefined ? {} : { about }),
    }];
  }

  #clientIdOf(childId: number): RpcId | undefined {
    return this.#forwards.get(childId)?.clientId;
  }

  #childNotification(m: RpcMessage & { method: string }): Out[] {
    const p = asObject(m.params) ?? {};
    if (TO_ALL.has(m.method)) {
      return [...this.#sessions.keys()].map((session) => ({ to: "session", session, message: m }));
    }
    switch (m.method) {
      case "notifications/progress": {
        const childId = this.#progress.get(String(p.progressToken));
        const f = childId === undefined ? undefined : this.#forwards.get(childId);
        if (!f || f.cancelled || !f.progress) return [];
        return [{
          to: "session",
          session: f.session,
          message: notification(m.method, { ...p, progressToken: f.progress.client }),
          about: f.clientId,
        }];
      }
      case "notifications/message": {
        const level = LOG_LEVELS.indexOf(p.level as LogLevel);
        return [...this.#sessions].flatMap(([session, s]): Out[] =>
          s.logLevel === null || level >= LOG_LEVELS.indexOf(s.logLevel)
            ? [{ to: "session", session, message: m }]
            : []
        );
      }
      case "notifications/resources/updated": {
        const subscribed = this.#subscribers.get(String(p.uri)) ?? new Set();
        return [...subscribed].map((session) => ({ to: "session", session, message: m }));
      }
      case "notifications/cancelled": {
        // The child gave up on what it asked a client.
        for (const [askId, a] of this.#asked) {
          if (a.childId !== p.requestId) continue;
          this.#asked.delete(askId);
          return [{
            to: "session",
            session: a.session,
            message: notification(m.method, { ...p, requestId: askId }),
          }];
        }
        return [];
      }
      case "notifications/tasks/status": {
        const task = String(p.taskId);
        return [...this.#sessions].flatMap(([session, s]): Out[] =>
          s.tasks.has(task) ? [{ to: "session", session, message: m }] : []
        );
      }
      default:
        return [...this.#sessions.keys()].map((session) => ({
          to: "session",
          session,
          message: m,
        }));
    }
  }

  /** Session `id` no longer wants `uri`: the child is told when it was the last. */
  #unsubscribe(id: string, uri: string): Out[] {
    const set = this.#subscribers.get(uri);
    if (!set?.delete(id) || set.size > 0) return [];
    this.#subscribers.delete(uri);
    return this.#init ? [this.own("resources/unsubscribe", { uri }).out] : [];
  }

  /** The most verbose level any session asked; the child is told when it changed. */
  #levelChanged(): Out[] {
    let min: number | null = null;
    for (const s of this.#sessions.values()) {
      if (s.logLevel === null) continue;
      const i = LOG_LEVELS.indexOf(s.logLevel);
      if (min === null || i < min) min = i;
    }
    const level = min === null ? null : LOG_LEVELS[min]!;
    if (level === this.#childLevel || level === null || !this.#init) return [];
    this.#childLevel = level;
    return [this.own("logging/setLevel", { level }).out];
  }
}
