/**
 * The router of a per-session child: one client session on a child of its
 * own (SPEC §11, `sharing "per-session"`), pure like the shared one
 * (router.ts). There is no other session to keep apart, so progress tokens,
 * capabilities and subscriptions pass as the client sent them; ids are still
 * rewritten, because xy asks the child things of its own (its `initialize`,
 * replayed to a child started again; pings) and because an answer meant for a
 * child that has since exited must never reach the next one.
 *
 * - The client's requests reach the child under ids of xy's; answers go back
 *   under the client's id, on the stream of the request they answer.
 * - Progress goes on the stream of the request its token belongs to.
 * - `notifications/cancelled` is mapped to the child's id, and a later answer
 *   is dropped.
 * - A request of the child's (sampling, elicitation, roots) goes to the
 *   client under an id of xy's, on the stream of the one request in flight
 *   when there is exactly one; its answer goes back under the child's id. The
 *   child's `ping` is answered here, and so is the client's, so that neither
 *   starts a child nor keeps one from going idle.
 * - The log level and the subscriptions the client asked for are kept, to be
 *   asked again of a child started again for the session.
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

/** Where a message goes: to the child, to the client (`about`: its request concerned), or to xy itself. */
export type DirectOut =
  | { readonly to: "child"; readonly message: RpcMessage }
  | { readonly to: "client"; readonly message: RpcMessage; readonly about?: RpcId }
  | { readonly to: "xy"; readonly id: number; readonly message: RpcMessage };

/** A client request forwarded to the child. */
interface Forward {
  readonly clientId: RpcId;
  readonly method: string;
  readonly params: Record<string, unknown> | undefined;
  readonly progressToken?: string;
  cancelled: boolean;
}

const key = (v: unknown) => JSON.stringify(v);

/** The router of one session and its child. */
export class DirectRouter {
  readonly #forwards = new Map<number, Forward>();
  /** The client's id (keyed) of each request in flight → the child's. */
  readonly #inflight = new Map<string, number>();
  /** A progress token (keyed) → the child id of the request it belongs to. */
  readonly #progress = new Map<string, number>();
  /** Requests of the child's asked of the client: xy's id → the child's. */
  readonly #asked = new Map<string, RpcId>();
  readonly #own = new Set<number>();
  /** The level the client asked for, to ask again of a new child. */
  #level: string | null = null;
  /** The URIs the client subscribed to, to subscribe again on a new child. */
  readonly #subscriptions = new Set<string>();
  #nextId = 1;
  #nextAsk = 1;

  /** Requests of the client's in flight on the child. */
  get inflight(): number {
    return this.#inflight.size;
  }

  /** A request of xy's own to the child: its answer comes back as `{ to: "xy", id }`. */
  own(method: string, params?: Record<string, unknown>): { id: number; out: DirectOut } {
    const id = this.#nextId++;
    this.#own.add(id);
    return {
      id,
      out: { to: "child", message: { jsonrpc: "2.0", id, method, ...(params ? { params } : {}) } },
    };
  }

  /** One message from the client. */
  fromClient(m: RpcMessage): DirectOut[] {
    if (isRequest(m)) return this.#clientRequest(m);
    if (isResponse(m)) {
      const childId = this.#asked.get(String(m.id));
      if (childId === undefined) return [];
      this.#asked.delete(String(m.id));
      const back: RpcMessage = m.error
        ? { jsonrpc: "2.0", id: childId, error: m.error }
        : { jsonrpc: "2.0", id: childId, result: m.result };
      return [{ to: "child", message: back }];
    }
    if (isNotification(m)) return this.#clientNotification(m);
    return [];
  }

  /** One message from the child. */
  fromChild(m: RpcMessage): DirectOut[] {
    if (isResponse(m)) return this.#childResponse(m);
    if (isRequest(m)) return this.#childRequest(m);
    if (isNotification(m)) return this.#childNotification(m);
    return [];
  }

  /**
   * The child is gone: every request in flight is answered at once with an
   * error saying why, and what it asked of the client is forgotten. The level
   * and subscriptions stay, for the next child.
   */
  childGone(why: string): DirectOut[] {
    const out: DirectOut[] = [];
    for (const f of this.#forwards.values()) {
      if (f.cancelled) continue;
      out.push({
        to: "client",
        message: failure(f.clientId, RPC_ERRORS.internal, `${why}; the request was not answered`),
        about: f.clientId,
      });
    }
    this.#forwards.clear();
    this.#inflight.clear();
    this.#progress.clear();
    this.#asked.clear();
    this.#own.clear();
    return out;
  }

  /**
   * A new child answered the session's `initialize`: the level and the
   * subscriptions the client holds are asked of it again.
   */
  restore(): DirectOut[] {
    const out: DirectOut[] = [];
    if (this.#level !== null) out.push(this.own("logging/setLevel", { level: this.#level }).out);
    for (const uri of this.#subscriptions) {
      out.push(this.own("resources/subscribe", { uri }).out);
    }
    return out;
  }

  #clientRequest(m: RpcMessage & { method: string; id: RpcId }): DirectOut[] {
    const p = asObject(m.params);
    switch (m.method) {
      case "ping":
        return [{ to: "client", message: result(m.id, {}), about: m.id }];
      case "logging/setLevel":
        if (typeof p?.level === "string") this.#level = p.level;
        break;
      case "resources/subscribe":
        if (typeof p?.uri === "string") this.#subscriptions.add(p.uri);
        break;
      case "resources/unsubscribe":
        if (typeof p?.uri === "string") this.#subscriptions.delete(p.uri);
        break;
    }
    const childId = this.#nextId++;
    const token = asObject(p?.["_meta"])?.progressToken;
    const progressToken = token === undefined ? undefined : key(token);
    if (progressToken !== undefined) this.#progress.set(progressToken, childId);
    this.#forwards.set(childId, {
      clientId: m.id,
      method: m.method,
      params: p,
      ...(progressToken === undefined ? {} : { progressToken }),
      cancelled: false,
    });
    this.#inflight.set(key(m.id), childId);
    return [{
      to: "child",
      message: { jsonrpc: "2.0", id: childId, method: m.method, ...(p ? { params: p } : {}) },
    }];
  }

  #clientNotification(m: RpcMessage & { method: string }): DirectOut[] {
    switch (m.method) {
      case "notifications/initialized":
        return []; // xy sends it, right after the child answers the initialize.
      case "notifications/cancelled": {
        const p = asObject(m.params) ?? {};
        const childId = this.#inflight.get(key(p.requestId));
        const f = childId === undefined ? undefined : this.#forwards.get(childId);
        if (!f || childId === undefined) return [];
        f.cancelled = true;
        return [{
          to: "child",
          message: notification("notifications/cancelled", { ...p, requestId: childId }),
        }];
      }
      default:
        return [{ to: "child", message: m }];
    }
  }

  #childResponse(m: RpcMessage & { id: RpcId }): DirectOut[] {
    if (typeof m.id !== "number") return [];
    if (this.#own.delete(m.id)) return [{ to: "xy", id: m.id, message: m }];
    const f = this.#forwards.get(m.id);
    if (!f) return []; // Cancelled, or meant for a child that has since exited.
    this.#forwards.delete(m.id);
    this.#inflight.delete(key(f.clientId));
    if (f.progressToken !== undefined) this.#progress.delete(f.progressToken);
    if (f.cancelled) return [];
    if (m.error && f.method === "resources/subscribe" && typeof f.params?.uri === "string") {
      this.#subscriptions.delete(f.params.uri); // Refused: not asked again of the next child.
    }
    const back: RpcMessage = m.error
      ? { jsonrpc: "2.0", id: f.clientId, error: m.error }
      : { jsonrpc: "2.0", id: f.clientId, result: m.result };
    return [{ to: "client", message: back, about: f.clientId }];
  }

  #childRequest(m: RpcMessage & { method: string; id: RpcId }): DirectOut[] {
    if (m.method === "ping") return [{ to: "child", message: result(m.id, {}) }];
    const askId = `xy-ask-${this.#nextAsk++}`;
    this.#asked.set(askId, m.id);
    const live = [...this.#forwards.values()].filter((f) => !f.cancelled);
    const about = live.length === 1 ? live[0]!.clientId : undefined;
    return [{
      to: "client",
      message: {
        jsonrpc: "2.0",
        id: askId,
        method: m.method,
        ...(m.params ? { params: m.params } : {}),
      },
      ...(about === undefined ? {} : { about }),
    }];
  }

  #childNotification(m: RpcMessage & { method: string }): DirectOut[] {
    const p = asObject(m.params) ?? {};
    switch (m.method) {
      case "notifications/progress": {
        const childId = this.#progress.get(key(p.progressToken));
        const f = childId === undefined ? undefined : this.#forwards.get(childId);
        if (!f || f.cancelled) return [];
        return [{ to: "client", message: m, about: f.clientId }];
      }
      case "notifications/cancelled": {
        // The child gave up on what it asked the client.
        for (const [askId, childId] of this.#asked) {
          if (childId !== p.requestId) continue;
          this.#asked.delete(askId);
          return [{
            to: "client",
            message: notification(m.method, { ...p, requestId: askId }),
          }];
        }
        return [];
      }
      default:
        return [{ to: "client", message: m }];
    }
  }
}
