/**
 * Session ids that outlive the process that issued them (SPEC §11): an id is
 * a random nonce and an HMAC-SHA256 of it under a key kept in the state dir,
 * so a bridge that restarted — the child, the server or the daemon — still
 * knows an id it issued, and re-creates that session rather than answering
 * 404 (the official SDK client never re-initializes after one). An id that
 * does not verify was never issued here.
 */

const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** Issues and checks signed session ids under one key. */
export class SessionIds {
  readonly #key: Promise<CryptoKey>;

  /** `key`: the secret (32 random bytes, `<state>/session.key`). */
  constructor(key: Uint8Array) {
    this.#key = crypto.subtle.importKey(
      "raw",
      key as Uint8Array<ArrayBuffer>,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
  }

  /** A new signed id. */
  async issue(): Promise<string> {
    const nonce = base64url(crypto.getRandomValues(new Uint8Array(16)));
    return `${nonce}.${await this.#mac(nonce)}`;
  }

  /** True when `id` was issued under this key. */
  async verify(id: string): Promise<boolean> {
    const dot = id.indexOf(".");
    if (dot <= 0 || id.length > 128) return false;
    const mac = await this.#mac(id.slice(0, dot));
    const given = id.slice(dot + 1);
    // Compared in full whatever differs first: how long a check takes tells nothing.
    let diff = mac.length ^ given.length;
    for (let i = 0; i < mac.length; i++) diff |= mac.charCodeAt(i) ^ given.charCodeAt(i);
    return diff === 0;
  }

  async #mac(nonce: string): Promise<string> {
    const sig = await crypto.subtle.sign("HMAC", await this.#key, encoder.encode(nonce));
    return base64url(new Uint8Array(sig).subarray(0, 18));
  }
}
