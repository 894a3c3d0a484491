/**
 * A stdio MCP server served over Streamable HTTP (SPEC §11): what its
 * supervisor sees of it, whichever way it shares the server's child — one
 * child for every session (shared.ts, the default), or a child per session
 * (per_session.ts). Both put the same endpoint in front (endpoint.ts), and
 * both answer the machine's probes: the child's answer to xy's own
 * `initialize` makes the server ready, and a `ping` checks it is alive.
 *
 * Written for xy rather than on the official SDK's server transport: that one
 * costs some 17 MB in every worker (measured), far over SPEC §9's budget, and
 * keeps one transport per session, which cannot route many sessions onto one
 * child.
 */
import type { Clock } from "../clock.ts";
import { deadline } from "../deadline.ts";
import { errorMessage } from "../error_message.ts";
import type { McpInfo, ProbeResult } from "../health/probe.ts";
import type { PipeReader } from "../logs/capture.ts";
import { asObject, type RpcMessage } from "./jsonrpc.ts";

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

/** One open session, as `xy status` shows it. */
export interface SessionStatus {
  /** The first 8 characters of its id. */
  readonly id: string;
  readonly clientInfo: { readonly name?: string; readonly version?: string } | null;
  readonly protocolVersion: string;
  readonly inflight: number;
  /** Per-session: the pid of its child, null while it has none (idle, or not started again yet). */
  readonly pid?: number | null;
}

/** What `xy status` shows of a bridge. */
export interface BridgeStatus {
  readonly serverInfo: McpInfo | null;
  readonly sessions: readonly SessionStatus[];
  readonly inflight: number;
}

/** How a child process ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: string | null;
}

/** What a stdio server's supervisor drives. */
export interface Bridge {
  /**
   * Starts listening on `127.0.0.1:<port>`; resolves with why it could not
   * (the port is taken), or null. A bridge that listens already stays as it is.
   */
  listen(describeTaken: (port: number) => Promise<string>): Promise<string | null>;
  /** Stops listening; open streams end. */
  close(): Promise<void>;
  /** The server's state changed: while it is failed or stopping, requests get 503. */
  serverState(state: string): void;
  /** A new run: its first child's stdin and stdout become the channel the probes use. */
  attach(
    pid: number,
    stdin: WritableStream<Uint8Array>,
    stdout: ReadableStream<Uint8Array>,
  ): PipeReader;
  /** The run's processes are gone: requests in flight are answered with why. */
  childGone(why: string): void;
  /** Closes the children's stdin: the first step of the server's stop. */
  closeInput(): void;
  /**
   * The machine's probe: until the run is ready, its first child's answer to
   * xy's own `initialize`; then a `ping` of each child.
   */
  probe(timeoutMs: number): Promise<ProbeResult>;
  /** Sessions, their clients, and requests in flight. */
  status(): BridgeStatus;
}

/** What xy's own `initialize` of a child declares. */
export function xyInitialize(version: string, protocolVersion: string): Record<string, unknown> {
  return {
    protocolVersion,
    // Not roots: a child keeps the directories it was given.
    capabilities: { sampling: {}, elicitation: {} },
    clientInfo: { name: "xy", version },
  };
}

/** `serverInfo` and the protocol version of an `initialize` result, when it has them. */
export function serverInfoOf(result: unknown): McpInfo | undefined {
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

/** How much of a message the log holds, with `log-messages`. */
const LOGGED_BYTES = 4096;

/** A message as `log-messages` logs it: cut to 4 KiB. */
export function cut(text: string): string {
  return text.length <= LOGGED_BYTES ? text : `${text.slice(0, LOGGED_BYTES)}… (${text.length} B)`;
}

/** `5s`, or `1500ms`. */
export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** A probe that failed, and how long it took. */
export function probeFailed(message: string, t0: number): ProbeResult {
  return { status: "failed", message, latencyMs: Math.round(performance.now() - t0) };
}

/**
 * A child's answer to what a probe asked (`asked`: xy's `initialize`, or a
 * `ping`), within `timeoutMs`; or the failed probe that says why there is none.
 */
export async function answerWithin(
  asked: Promise<RpcMessage>,
  what: string,
  timeoutMs: number,
  t0: number,
  clock: Clock | undefined,
): Promise<RpcMessage | ProbeResult> {
  let m: RpcMessage;
  try {
    m = await deadline(asked, timeoutMs, {
      onTimeout: () => new Error(`no answer to ${what} within ${formatMs(timeoutMs)}`),
      ...(clock ? { clock } : {}),
    });
  } catch (e) {
    return probeFailed(errorMessage(e), t0);
  }
  return m.error ? probeFailed(`${what} failed: ${m.error.message}`, t0) : m;
}

/** The child's `initialize` answer as the server's info, or the failed probe of a child that is no MCP server. */
export function initialized(m: RpcMessage, t0: number): McpInfo | ProbeResult {
  return serverInfoOf(m.result) ??
    probeFailed("not an MCP server: initialize has no serverInfo", t0);
}

/** The probe that made a child ready: its `serverInfo`. */
export function readyProbe(info: McpInfo, t0: number): ProbeResult {
  return {
    status: "healthy",
    message: `${info.name} ${info.version} (protocol ${info.protocolVersion})`,
    latencyMs: Math.round(performance.now() - t0),
    mcp: info,
  };
}

/** Whether `x`, from {@link answerWithin} or {@link initialized}, is a failed probe. */
export function isProbe(x: RpcMessage | McpInfo | ProbeResult): x is ProbeResult {
  return "status" in x && "latencyMs" in x;
}

/** Where requests wait for a child that is not ready: opened by the probe that finds it ready. */
export class ReadyGate {
  #open = false;
  #waiters: (() => void)[] = [];

  get isOpen(): boolean {
    return this.#open;
  }

  open(): void {
    this.#open = true;
    for (const w of this.#waiters.splice(0)) w();
  }

  close(): void {
    this.#open = false;
  }

  /** Resolves true once open, false when that did not come within `ms`. */
  async wait(ms: number, clock?: Clock): Promise<boolean> {
    if (this.#open) return true;
    const opened = new Promise<void>((r) => this.#waiters.push(r));
    try {
      await deadline(opened, ms, clock ? { clock } : {});
      return true;
    } catch {
      return false;
    }
  }
}
