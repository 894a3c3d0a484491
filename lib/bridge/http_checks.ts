/**
 * What a request to a stdio server's endpoint must pass before anything of it
 * reaches the child, in SPEC §11's order: its `Host` and `Origin` (403: a web
 * page that reaches 127.0.0.1 by DNS rebinding, or from another origin, gets
 * nothing), its token (401), its size (413) and its content type (415). Pure:
 * the answer is data, the endpoint makes it a Response.
 */

/** The largest body the endpoint reads. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** An answer that ends a request before the child is involved. */
export interface Refusal {
  readonly status: number;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What a request is checked against. */
export interface CheckOptions {
  readonly port: number;
  /** The bearer token the request must carry; null when `auth "none"`. */
  readonly token: string | null;
}

/** What {@link checkRequest} reads of a request. */
export interface RequestHead {
  readonly method: string;
  readonly headers: Headers;
}

/** Loopback hosts a browser may name in an `Origin`, and the endpoint in a `Host`. */
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Why `head` may not go further, or null when it may. */
export function checkRequest(head: RequestHead, opts: CheckOptions): Refusal | null {
  const host = head.headers.get("host");
  if (host !== `127.0.0.1:${opts.port}` && host !== `localhost:${opts.port}`) {
    return {
      status: 403,
      message: `Host ${JSON.stringify(host)} is not this endpoint's (127.0.0.1:${opts.port})`,
    };
  }
  const origin = head.headers.get("origin");
  if (origin !== null && !isLoopbackOrigin(origin)) {
    return { status: 403, message: `Origin ${JSON.stringify(origin)} is not a loopback origin` };
  }
  if (opts.token !== null && !tokenMatches(head.headers.get("authorization"), opts.token)) {
    return {
      status: 401,
      message: "this endpoint wants the server's token: `xy mcp-config --write` gives it to a " +
        "client, as an Authorization: Bearer header",
      headers: { "WWW-Authenticate": 'Bearer realm="xy"' },
    };
  }
  if (head.method !== "POST") return null;
  const length = Number(head.headers.get("content-length") ?? 0);
  if (length > MAX_BODY_BYTES) return tooLarge();
  const type = (head.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") {
    return {
      status: 415,
      message: `Content-Type must be application/json, found ${JSON.stringify(type || null)}`,
    };
  }
  return null;
}

/** The refusal of a body past {@link MAX_BODY_BYTES}. */
export function tooLarge(): Refusal {
  return { status: 413, message: `the body is larger than ${MAX_BODY_BYTES / 1024 / 1024} MiB` };
}

/** True for an origin of this machine's loopback, whatever its scheme's port. */
export function isLoopbackOrigin(origin: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // "null", or not a URL.
  }
  return (url.protocol === "http:" || url.protocol === "https:") && LOOPBACK.has(url.hostname);
}

/** Whether an Authorization header carries `token`, compared in full whatever differs first. */
function tokenMatches(header: string | null, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  const given = m?.[1] ?? "";
  let diff = given.length ^ token.length;
  for (let i = 0; i < token.length; i++) diff |= token.charCodeAt(i) ^ given.charCodeAt(i);
  return diff === 0;
}
