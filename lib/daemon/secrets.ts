/**
 * What a stdio server's endpoint keeps secret (SPEC §11), each created once in
 * the state dir, mode 0600, and kept across restarts of the server and the
 * daemon: a bearer token per server (`<state>/tokens/<name>`), and the key
 * the endpoints sign their session ids with (`<state>/session.key`).
 */
import type { BridgeSecrets } from "../bridge/bridge.ts";
import type { ServerConfig } from "../config/schema.ts";

/** The contents of `file`, made of `make()` (mode 0600) the first time. */
function kept(file: string, make: () => string): string {
  try {
    const text = Deno.readTextFileSync(file).trim();
    if (text) return text;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  Deno.mkdirSync(file.slice(0, file.lastIndexOf("/")), { recursive: true, mode: 0o700 });
  const value = make();
  const tmp = `${file}.${crypto.randomUUID()}.tmp`;
  Deno.writeTextFileSync(tmp, `${value}\n`, { mode: 0o600 });
  // Made once: whoever made it first wins, and the others read theirs.
  try {
    Deno.linkSync(tmp, file);
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  } finally {
    Deno.removeSync(tmp);
  }
  return Deno.readTextFileSync(file).trim();
}

function randomHex(bytes: number): string {
  return [...crypto.getRandomValues(new Uint8Array(bytes))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The bearer token of server `name`, made the first time it is asked for. */
export function serverToken(stateDir: string, name: string): string {
  return kept(`${stateDir}/tokens/${name}`, () => randomHex(32));
}

/** The key session ids are signed with, base64, made the first time. */
export function sessionKey(stateDir: string): string {
  return kept(
    `${stateDir}/session.key`,
    () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))),
  );
}

/** What the supervisor of `config` needs to serve a stdio endpoint; undefined for other servers. */
export function bridgeSecrets(stateDir: string, config: ServerConfig): BridgeSecrets | undefined {
  if (config.transport !== "stdio" || !config.stdio) return undefined;
  Deno.mkdirSync(`${stateDir}/sessions`, { recursive: true, mode: 0o700 });
  return {
    token: config.stdio.auth === "token" ? serverToken(stateDir, config.name) : null,
    sessionKey: sessionKey(stateDir),
    endedFile: `${stateDir}/sessions/${config.name}.ended`,
  };
}
