import { assertEquals } from "../assert.ts";
import { checkRequest, isLoopbackOrigin } from "../../lib/bridge/http_checks.ts";

const head = (method: string, headers: Record<string, string>) => ({
  method,
  headers: new Headers(headers),
});
const OPTS = { port: 8431, token: "secret" };
const ok = {
  host: "127.0.0.1:8431",
  authorization: "Bearer secret",
  "content-type": "application/json",
};

Deno.test("http checks: in SPEC order — Host and Origin (403), token (401), size (413), type (415)", () => {
  const status = (method: string, h: Record<string, string>) =>
    checkRequest(head(method, h), OPTS)?.status ?? 200;
  assertEquals(status("POST", ok), 200);
  assertEquals(status("POST", { ...ok, host: "localhost:8431" }), 200);
  // A page that reached 127.0.0.1 by DNS rebinding names its own host.
  assertEquals(status("POST", { ...ok, host: "evil.example.com" }), 403);
  assertEquals(status("POST", { ...ok, host: "127.0.0.1:9999" }), 403);
  assertEquals(status("POST", { ...ok, origin: "http://evil.example.com" }), 403);
  assertEquals(status("POST", { ...ok, origin: "null" }), 403);
  assertEquals(status("POST", { ...ok, origin: "http://localhost:3000" }), 200);
  // The first check that fails decides: a bad host without a token is 403, not 401.
  assertEquals(status("POST", { host: "evil.example.com" }), 403);
  assertEquals(status("POST", { ...ok, authorization: "Bearer other" }), 401);
  assertEquals(status("GET", { host: ok.host }), 401);
  assertEquals(status("POST", { ...ok, "content-length": String(17 * 1024 * 1024) }), 413);
  assertEquals(status("POST", { ...ok, "content-type": "text/plain" }), 415);
  assertEquals(status("POST", { ...ok, "content-type": "application/json; charset=utf-8" }), 200);
  // A GET or DELETE has no body to check.
  assertEquals(status("GET", { host: ok.host, authorization: ok.authorization }), 200);
  const r = checkRequest(head("POST", { host: ok.host }), OPTS)!;
  assertEquals(r.headers, { "WWW-Authenticate": 'Bearer realm="xy"' });
  assertEquals(r.message.includes("xy mcp-config --write"), true);
  // auth "none": no token asked for.
  assertEquals(
    checkRequest(head("POST", { ...ok, authorization: "" }), { ...OPTS, token: null }),
    null,
  );
});

Deno.test("http checks: loopback origins", () => {
  for (const o of ["http://127.0.0.1", "https://localhost:8443", "http://[::1]:80"]) {
    assertEquals(isLoopbackOrigin(o), true, o);
  }
  for (
    const o of [
      "http://127.0.0.2",
      "http://localhost.evil.com",
      "file://",
      "null",
      "ftp://localhost",
    ]
  ) {
    assertEquals(isLoopbackOrigin(o), false, o);
  }
});
