// xy worker bundle: {"files":["../clock.ts","../config/schema.ts","../config/units.ts","../errors.ts","../health/http.ts","../health/mcp.ts","../health/mcp_info.ts","../health/mcp_sse.ts","../health/probe.ts","../health/sse.ts","../health/tcp.ts","../logs/capture.ts","../logs/chunk_reader.ts","../logs/follow.ts","../logs/lines.ts","../logs/log_file.ts","../logs/prefix.ts","../logs/ring.ts","../logs/stamp.ts","../poll.ts","../process/command_check.ts","../process/group.ts","../process/markers.ts","../process/pipe_size.ts","../process/port.ts","../process/records.ts","../process/spawner.ts","../timers.ts","../version.ts","actor.ts","answers.ts","backoff.ts","child_watch.ts","launch.ts","machine.ts","messages.ts","model.ts","readiness.ts","retry_window.ts","snapshot.ts","transaction.ts","worker.ts"],"hash":"f24960135e8d0935"}
// Made by `deno task bundle` (tools/bundle_worker.ts) from worker.ts: do not edit.
var __defProp = Object.defineProperty;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __esm = (fn, res) => function __init() {
  return fn && (res = (0, fn[__getOwnPropNames(fn)[0]])(fn = 0)), res;
};
var __export = (target, all) => {
  for (var name in all)
    __defProp(target, name, { get: all[name], enumerable: true });
};

// lib/timers.ts
function sleep(ms) {
  return new Promise((resolve) => timers.set(resolve, ms));
}
var signalSource, TimerQueue, timers;
var init_timers = __esm({
  "lib/timers.ts"() {
    signalSource = {
      now: () => performance.now(),
      arm: (ms, fire) => {
        const signal = AbortSignal.timeout(ms);
        signal.addEventListener("abort", fire, {
          once: true
        });
        return {
          release: () => signal.removeEventListener("abort", fire),
          renew: () => {
            if (signal.aborted) return false;
            signal.addEventListener("abort", fire, {
              once: true
            });
            return true;
          }
        };
      }
    };
    TimerQueue = class {
      #source;
      /** Pending timers, by due time, then by the order they were set. */
      #entries = [];
      /** The wake-ups not yet come, held or let go, earliest first. */
      #wakes = [];
      #seq = 0;
      constructor(source = signalSource) {
        this.#source = source;
      }
      /** Pending timers. */
      get size() {
        return this.#entries.length;
      }
      /** Wake-ups held: armed, not yet come, and keeping the process alive. */
      get armed() {
        return this.#wakes.filter((w) => w.held).length;
      }
      /** Calls `fn` once, `ms` from now (at once for 0 or less). */
      set(fn, ms) {
        const entry = {
          due: this.#source.now() + Math.max(0, ms),
          seq: ++this.#seq,
          fn
        };
        this.#entries.splice(this.#indexOf(entry), 0, entry);
        this.#arm();
        return entry;
      }
      /** Cancels `timer`; nothing when it fired or was cleared already. */
      clear(timer) {
        if (!timer) return;
        const i = this.#indexOf(timer);
        if (this.#entries[i] === timer) this.#entries.splice(i, 1);
        timer.fn = null;
        if (this.#entries.length === 0) this.#letGo();
      }
      /** Where `t` is, or would go, in the entries (binary search). */
      #indexOf(t) {
        let lo = 0;
        let hi = this.#entries.length;
        while (lo < hi) {
          const mid = lo + hi >> 1;
          const e = this.#entries[mid];
          if (e.due < t.due || e.due === t.due && e.seq < t.seq) lo = mid + 1;
          else hi = mid;
        }
        return lo;
      }
      /**
       * Makes sure a wake-up comes by the first timer's time: one held already,
       * one let go and taken up again, or a new one.
       */
      #arm() {
        const first = this.#entries[0];
        if (!first) return this.#letGo();
        while (this.#wakes.length && this.#wakes[0].due <= first.due) {
          const w = this.#wakes[0];
          if (w.held) return;
          if (w.handle.renew()) {
            w.held = true;
            return;
          }
          this.#wakes.shift();
        }
        const wait = first.due - this.#source.now();
        const ms = wait <= 0 ? 0 : Math.max(1, Math.ceil(wait));
        const wake = {
          due: first.due,
          held: true,
          handle: this.#source.arm(ms, () => this.#wake(wake))
        };
        this.#wakes.unshift(wake);
      }
      /** Nothing waits: no wake-up need keep the process alive. */
      #letGo() {
        for (const w of this.#wakes) {
          if (!w.held) continue;
          w.handle.release();
          w.held = false;
        }
      }
      /** A wake-up fired: runs what is due, in order, and arms the next. */
      #wake(wake) {
        this.#wakes.splice(this.#wakes.indexOf(wake), 1);
        const now = this.#source.now();
        let count = 0;
        while (count < this.#entries.length && this.#entries[count].due <= now) count++;
        const due = this.#entries.splice(0, count);
        let failed;
        for (const e of due) {
          const fn = e.fn;
          e.fn = null;
          try {
            fn?.();
          } catch (error) {
            failed ??= {
              error
            };
          }
        }
        this.#arm();
        if (failed) throw failed.error;
      }
    };
    timers = new TimerQueue();
  }
});

// lib/errors.ts
function errorMessage(e) {
  return e instanceof Error ? e.message : String(e);
}
var ExitCode, FAILURES, RpcCode;
var init_errors = __esm({
  "lib/errors.ts"() {
    ExitCode = {
      Ok: 0,
      Error: 1,
      Unreachable: 2,
      ConfigInvalid: 3,
      Usage: 64
    };
    FAILURES = {
      ServerNotFound: {
        rpc: -32001,
        exit: ExitCode.Error
      },
      PortConflict: {
        rpc: -32002,
        exit: ExitCode.Error
      },
      ConfigInvalid: {
        rpc: -32003,
        exit: ExitCode.ConfigInvalid
      },
      AlreadyRunning: {
        rpc: -32004,
        exit: ExitCode.Error
      },
      NotRunning: {
        rpc: -32005,
        exit: ExitCode.Error
      },
      SpawnFailed: {
        rpc: -32006,
        exit: ExitCode.Error
      },
      /** The server's supervisor is gone (shut down, or its worker died). */
      Internal: {
        rpc: -32603,
        exit: ExitCode.Error
      }
    };
    RpcCode = {
      ServerNotFound: FAILURES.ServerNotFound.rpc,
      PortConflict: FAILURES.PortConflict.rpc,
      ConfigInvalid: FAILURES.ConfigInvalid.rpc,
      AlreadyRunning: FAILURES.AlreadyRunning.rpc,
      NotRunning: FAILURES.NotRunning.rpc,
      SpawnFailed: FAILURES.SpawnFailed.rpc,
      ParseError: -32700,
      InvalidRequest: -32600,
      MethodNotFound: -32601,
      InvalidParams: -32602,
      InternalError: FAILURES.Internal.rpc
    };
  }
});

// lib/poll.ts
async function pollUntil(check, opts) {
  const now = opts.now ?? Date.now;
  const sleep2 = opts.sleep ?? sleep;
  const deadline = now() + opts.timeoutMs;
  let delay = opts.firstDelayMs ?? 5;
  const maxDelay = opts.maxDelayMs ?? 100;
  while (true) {
    const value = await check();
    if (value !== void 0 && value !== null && value !== false) {
      return value;
    }
    const left = deadline - now();
    if (left <= 0) return void 0;
    await sleep2(Math.min(delay, left));
    delay = Math.min(delay * 2, maxDelay);
  }
}
function withDeadline(promise, ms, opts) {
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const timer = timers.set(() => {
      timedOut = true;
      reject(opts.onTimeout());
    }, ms);
    promise.then((value) => {
      timers.clear(timer);
      if (timedOut) opts.late?.(value);
      else resolve(value);
    }, (e) => {
      timers.clear(timer);
      if (!timedOut) reject(e);
    });
  });
}
var init_poll = __esm({
  "lib/poll.ts"() {
    init_timers();
  }
});

// lib/health/tcp.ts
var tcp_exports = {};
__export(tcp_exports, {
  probeTcp: () => probeTcp
});
async function probeTcp(port, timeoutMs, hostname = "127.0.0.1") {
  const t0 = performance.now();
  const latency = () => Math.round(performance.now() - t0);
  try {
    const conn = await withDeadline(Deno.connect({
      hostname,
      port
    }), timeoutMs, {
      onTimeout: () => new DOMException("timed out", "TimeoutError"),
      late: (c) => c.close()
    });
    conn.close();
    return {
      status: "healthy",
      message: "port accepts connections",
      latencyMs: latency()
    };
  } catch (e) {
    return {
      status: "failed",
      message: describeFailure(e, timeoutMs),
      latencyMs: latency()
    };
  }
}
var init_tcp = __esm({
  "lib/health/tcp.ts"() {
    init_poll();
    init_probe();
  }
});

// lib/health/http.ts
var http_exports = {};
__export(http_exports, {
  probeHttp: () => probeHttp
});
async function probeHttp(url, timeoutMs) {
  const t0 = performance.now();
  const latency = () => Math.round(performance.now() - t0);
  const client = Deno.createHttpClient({
    poolMaxIdlePerHost: 0
  });
  try {
    const res = await fetch(url, {
      client,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs)
    });
    await res.body?.cancel();
    const message = `HTTP ${res.status}`;
    const ok = res.status >= 200 && res.status < 400;
    return {
      status: ok ? "healthy" : "failed",
      message,
      latencyMs: latency()
    };
  } catch (e) {
    return {
      status: "failed",
      message: describeFailure(e, timeoutMs),
      latencyMs: latency()
    };
  } finally {
    client.close();
  }
}
var init_http = __esm({
  "lib/health/http.ts"() {
    init_probe();
  }
});

// lib/version.ts
var VERSION;
var init_version = __esm({
  "lib/version.ts"() {
    VERSION = "0.1.0";
  }
});

// lib/health/mcp_info.ts
function mcpInfo(result) {
  if (typeof result !== "object" || result === null) return void 0;
  const r = result;
  if (typeof r.protocolVersion !== "string" || typeof r.serverInfo?.name !== "string") {
    return void 0;
  }
  const version = typeof r.serverInfo.version === "string" ? r.serverInfo.version : "";
  return {
    name: r.serverInfo.name,
    version,
    protocolVersion: r.protocolVersion
  };
}
function initializeRequest(id) {
  return {
    jsonrpc: "2.0",
    id,
    method: "initialize",
    params: {
      protocolVersion: SESSION_ERA,
      capabilities: {},
      clientInfo: {
        name: "xy",
        version: VERSION
      }
    }
  };
}
function answerOf(data, id) {
  let msg;
  try {
    msg = JSON.parse(data);
  } catch {
    return void 0;
  }
  if (msg?.id !== id) return void 0;
  if ("error" in msg) return {
    error: msg.error ?? {}
  };
  return "result" in msg ? {
    result: msg.result
  } : void 0;
}
var CURRENT_ERA, SESSION_ERA, MAX_ANSWER_BYTES;
var init_mcp_info = __esm({
  "lib/health/mcp_info.ts"() {
    init_version();
    CURRENT_ERA = "2026-07-28";
    SESSION_ERA = "2025-11-25";
    MAX_ANSWER_BYTES = 1024 * 1024;
  }
});

// lib/health/sse.ts
var SseParser;
var init_sse = __esm({
  "lib/health/sse.ts"() {
    SseParser = class {
      #buffer = "";
      #event = "";
      #data = [];
      #id;
      push(text) {
        this.#buffer += text;
        const out = [];
        while (true) {
          const m = /\r\n|\r|\n/.exec(this.#buffer);
          if (!m) break;
          const line = this.#buffer.slice(0, m.index);
          this.#buffer = this.#buffer.slice(m.index + m[0].length);
          if (line === "") {
            if (this.#data.length > 0 || this.#event !== "") {
              out.push({
                event: this.#event || "message",
                data: this.#data.join("\n"),
                ...this.#id === void 0 ? {} : {
                  id: this.#id
                }
              });
            }
            this.#event = "";
            this.#data = [];
            continue;
          }
          if (line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon === -1 ? line : line.slice(0, colon);
          let value = colon === -1 ? "" : line.slice(colon + 1);
          if (value.startsWith(" ")) value = value.slice(1);
          if (field === "event") this.#event = value;
          else if (field === "data") this.#data.push(value);
          else if (field === "id") this.#id = value;
        }
        return out;
      }
    };
  }
});

// lib/health/mcp_sse.ts
async function probeSse(client, url, signal) {
  const done = new AbortController();
  const res = await fetch(url, {
    client,
    signal: AbortSignal.any([
      signal,
      done.signal
    ]),
    headers: {
      "Accept": "text/event-stream"
    }
  });
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel();
    return {
      auth: res.status
    };
  }
  if (!res.ok || !res.body || !(res.headers.get("content-type") ?? "").includes("event-stream")) {
    await res.body?.cancel();
    return void 0;
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  const pending = [];
  let read = 0;
  const next = async () => {
    while (pending.length === 0) {
      if (read > MAX_ANSWER_BYTES) return void 0;
      const { value, done: done2 } = await reader.read();
      if (done2) return void 0;
      read += value.length;
      pending.push(...parser.push(value));
    }
    return pending.shift();
  };
  try {
    let ev = await next();
    while (ev && ev.event !== "endpoint") ev = await next();
    if (!ev) return {
      failed: "an SSE stream without an endpoint event"
    };
    const endpoint = new URL(ev.data.trim(), url);
    if (endpoint.origin !== new URL(url).origin) {
      return {
        failed: `the SSE endpoint is on another origin: ${endpoint.origin}`
      };
    }
    const send = async (body) => {
      const r = await fetch(endpoint, {
        method: "POST",
        client,
        signal,
        headers: {
          "Content-Type": "application/json"
        },
        body: JSON.stringify(body)
      });
      await r.body?.cancel();
      return r.status;
    };
    const posted = await send(initializeRequest(2));
    if (posted === 401 || posted === 403) return {
      auth: posted
    };
    if (posted < 200 || posted >= 300) return {
      failed: `HTTP ${posted} to initialize over SSE`
    };
    for (ev = await next(); ev; ev = await next()) {
      if (ev.event !== "message" || ev.data === "") continue;
      const answer2 = answerOf(ev.data, 2);
      if (!answer2) continue;
      const found2 = mcpInfo(answer2.result);
      if (!found2) {
        const why = answer2.error?.message ?? "its answer has no serverInfo";
        return {
          failed: `initialize over SSE failed: ${why}`
        };
      }
      const answeredAt = performance.now();
      await send({
        jsonrpc: "2.0",
        method: "notifications/initialized"
      }).catch(() => 0);
      return {
        info: {
          ...found2,
          transport: "sse"
        },
        answeredAt
      };
    }
    return {
      failed: "the SSE stream ended before the answer to initialize"
    };
  } finally {
    done.abort();
    await reader.cancel().catch(() => {
    });
  }
}
var init_mcp_sse = __esm({
  "lib/health/mcp_sse.ts"() {
    init_mcp_info();
    init_sse();
  }
});

// lib/health/mcp.ts
var mcp_exports = {};
__export(mcp_exports, {
  classifyDiscover: () => classifyDiscover,
  probeMcp: () => probeMcp
});
function classifyDiscover(a) {
  if (a.status === 401 || a.status === 403) return "auth";
  return mcpInfo(a.result) ? "ok" : "fallback";
}
async function probeMcp(url, timeoutMs) {
  const t0 = performance.now();
  const latency = () => Math.round(performance.now() - t0);
  const client = Deno.createHttpClient({
    poolMaxIdlePerHost: 0
  });
  const signal = AbortSignal.timeout(timeoutMs);
  const auth = (status) => ({
    status: "needs-auth",
    message: `HTTP ${status}: needs auth`,
    latencyMs: latency()
  });
  try {
    const discover = await post(client, url, {
      body: {
        jsonrpc: "2.0",
        id: 1,
        method: "server/discover",
        params: {}
      },
      headers: {
        "MCP-Protocol-Version": CURRENT_ERA,
        "Mcp-Method": "server/discover"
      },
      signal
    });
    const era = classifyDiscover(discover);
    if (era === "auth") return auth(discover.status);
    if (era === "ok") {
      return healthy({
        ...mcpInfo(discover.result),
        transport: "streamable-http"
      }, latency());
    }
    const init = await post(client, url, {
      body: initializeRequest(2),
      headers: {},
      signal
    });
    if (init.status === 401 || init.status === 403) return auth(init.status);
    const found2 = mcpInfo(init.result);
    if (!found2) {
      let why = notMcp(init);
      if (init.status >= 400 && init.status < 500) {
        const legacy = await probeSse(client, url, signal).catch((e) => ({
          failed: `${why}; over HTTP+SSE: ${describeFailure(e, timeoutMs)}`
        }));
        if (legacy && "auth" in legacy) return auth(legacy.auth);
        if (legacy && "info" in legacy) {
          return healthy(legacy.info, Math.round(legacy.answeredAt - t0));
        }
        if (legacy) why = legacy.failed;
      }
      return {
        status: "failed",
        message: why,
        latencyMs: latency()
      };
    }
    const info = {
      ...found2,
      transport: "streamable-http"
    };
    const took = latency();
    await closeSession(client, url, {
      session: init.sessionId,
      info,
      timeoutMs
    });
    return healthy(info, took);
  } catch (e) {
    return {
      status: "failed",
      message: describeFailure(e, timeoutMs),
      latencyMs: latency()
    };
  } finally {
    client.close();
  }
}
function healthy(info, latencyMs) {
  return {
    status: "healthy",
    message: `${info.name} ${info.version}`.trim() + ` (protocol ${info.protocolVersion})`,
    latencyMs,
    mcp: info
  };
}
function notMcp(a) {
  if (a.status < 200 || a.status >= 300) return `HTTP ${a.status} to initialize`;
  if (a.error) return `initialize failed: ${a.error.message ?? `error ${a.error.code}`}`;
  return "not an MCP server: initialize has no serverInfo";
}
async function closeSession(client, url, opts) {
  const headers = {
    "MCP-Protocol-Version": opts.info.protocolVersion
  };
  if (opts.session) headers["Mcp-Session-Id"] = opts.session;
  const signal = AbortSignal.timeout(opts.timeoutMs);
  try {
    await post(client, url, {
      body: {
        jsonrpc: "2.0",
        method: "notifications/initialized"
      },
      headers,
      signal
    });
    if (!opts.session) return;
    const res = await fetch(url, {
      method: "DELETE",
      headers,
      client,
      signal
    });
    await res.body?.cancel();
  } catch {
  }
}
async function post(client, url, req) {
  const res = await fetch(url, {
    method: "POST",
    client,
    signal: req.signal,
    headers: {
      "Content-Type": "application/json",
      "Accept": "application/json, text/event-stream",
      ...req.headers
    },
    body: JSON.stringify(req.body)
  });
  const base = {
    status: res.status,
    sessionId: res.headers.get("mcp-session-id")
  };
  if (!res.ok || req.body.id === void 0 || !res.body) {
    await res.body?.cancel();
    return base;
  }
  const sse = (res.headers.get("content-type") ?? "").includes("text/event-stream");
  const message = await readMessage(res.body, {
    sse,
    id: req.body.id
  });
  return {
    ...base,
    ...message
  };
}
async function readMessage(body, opts) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  let text = "";
  try {
    while (text.length <= MAX_ANSWER_BYTES) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      if (!opts.sse) continue;
      for (const ev of parser.push(value)) {
        if (ev.event !== "message" || ev.data === "") continue;
        const found2 = answerOf(ev.data, opts.id);
        if (found2) return found2;
      }
    }
    return opts.sse ? {} : answerOf(text, opts.id) ?? {};
  } finally {
    await reader.cancel().catch(() => {
    });
  }
}
var init_mcp = __esm({
  "lib/health/mcp.ts"() {
    init_mcp_info();
    init_mcp_sse();
    init_probe();
    init_sse();
  }
});

// lib/health/probe.ts
function probeOk(r) {
  return r.status !== "failed";
}
function describeFailure(e, timeoutMs) {
  let inner = e;
  while (inner instanceof Error && inner.cause !== void 0) inner = inner.cause;
  for (const x of [
    e,
    inner
  ]) {
    if (x instanceof DOMException && (x.name === "TimeoutError" || x.name === "AbortError")) {
      return `timed out after ${formatMs(timeoutMs)}`;
    }
    if (x instanceof Deno.errors.ConnectionRefused) return REFUSED;
  }
  const text = errorMessage(inner);
  if (/connection refused/i.test(text)) return REFUSED;
  if (/connection reset/i.test(text)) return "connection reset";
  return text;
}
function formatMs(ms) {
  return ms % 1e3 === 0 ? `${ms / 1e3}s` : `${ms}ms`;
}
var REFUSED, realProber, ONLY_V6;
var init_probe = __esm({
  "lib/health/probe.ts"() {
    init_errors();
    REFUSED = "connection refused";
    realProber = async (config, port) => {
      const { probeTcp: probeTcp2 } = await Promise.resolve().then(() => (init_tcp(), tcp_exports));
      const { probeHttp: probeHttp2 } = await Promise.resolve().then(() => (init_http(), http_exports));
      const { probeMcp: probeMcp2 } = await Promise.resolve().then(() => (init_mcp(), mcp_exports));
      let r;
      switch (config.kind) {
        case "tcp":
          r = await probeTcp2(port, config.timeoutMs);
          break;
        case "http":
          r = await probeHttp2(`http://127.0.0.1:${port}${config.path ?? "/"}`, config.timeoutMs);
          break;
        case "mcp":
          r = await probeMcp2(`http://127.0.0.1:${port}${config.path ?? "/mcp"}`, config.timeoutMs);
          break;
      }
      if (r.message !== REFUSED) return r;
      const v6 = await probeTcp2(port, config.timeoutMs, "::1");
      return v6.status === "healthy" ? {
        ...r,
        message: `${REFUSED}: ${ONLY_V6}`
      } : r;
    };
    ONLY_V6 = "it listens on [::1] only; make it listen on 127.0.0.1 (or 0.0.0.0), where probes and clients reach it";
  }
});

// lib/supervisor/worker.ts
init_timers();

// lib/clock.ts
init_timers();
var MAX_TIMER_MS = 2 ** 31 - 1;
var systemClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => timers.set(fn, Math.min(ms, MAX_TIMER_MS)),
  clearTimeout: (id) => timers.clear(id)
};

// lib/logs/chunk_reader.ts
var READ_MIN = 1024;
var PIPE_DEFAULT = 64 * 1024;
var PIPE_FLOOD = 1024 * 1024;
var READ_FLOOD = 256 * 1024;
var CALM = 4 * 1024;
function chunkReader(stream, resize) {
  let byob;
  try {
    byob = stream.getReader({
      mode: "byob"
    });
  } catch {
    const plain = stream.getReader();
    return {
      read: async () => (await plain.read()).value ?? null,
      full: true,
      cancel: () => plain.cancel()
    };
  }
  const reader = byob;
  let buf = new Uint8Array(READ_MIN);
  let largest = PIPE_DEFAULT;
  let tried = false;
  let full = false;
  return {
    read: async () => {
      const { value, done } = await reader.read(buf);
      if (done || !value) return null;
      const size = value.buffer.byteLength;
      let next = size;
      full = value.byteLength === size;
      if (full) {
        if (size >= PIPE_DEFAULT && !tried && resize) {
          tried = true;
          if (resize(PIPE_FLOOD)) largest = READ_FLOOD;
        }
        if (size < largest) next = size * 2;
      } else if (value.byteLength < size / 16 && size > READ_MIN) {
        next = size / 2;
        if (tried && next <= CALM) {
          tried = false;
          if (largest > PIPE_DEFAULT) resize?.(PIPE_DEFAULT);
          largest = PIPE_DEFAULT;
        }
      }
      buf = new Uint8Array(next === size ? value.buffer : new ArrayBuffer(next));
      return value;
    },
    get full() {
      return full;
    },
    cancel: () => reader.cancel()
  };
}

// lib/logs/lines.ts
var MAX_LINE = 64 * 1024;
var NL = 10;
var rawDecoder = new TextDecoder("utf-8", {
  fatal: false
});
var LineBlocks = class {
  #decoder = new TextDecoder("utf-8", {
    fatal: false
  });
  #maxLine;
  /** The start of a line not finished yet. */
  #carry = "";
  /**
   * The last chunk ended a line: nothing is carried and the decoder holds no
   * byte, so the next chunk's lines all begin in it. A server that writes a
   * line at a time keeps this true, and its lines are never decoded.
   */
  #aligned = true;
  constructor(opts = {}) {
    this.#maxLine = opts.maxLine ?? MAX_LINE;
  }
  /**
   * Adds a chunk; returns the blocks of lines it completed (none, one, or two:
   * the line it finished from the last chunk's carry comes alone, so the
   * chunk's own text is never copied into a new string).
   */
  push(chunk) {
    if (chunk.length) this.#aligned = chunk[chunk.length - 1] === NL;
    const fresh = this.#decoder.decode(chunk, {
      stream: true
    });
    const cut = fresh.lastIndexOf("\n");
    if (cut === -1) {
      this.#carry += fresh;
      return this.#carry.length > this.#maxLine ? [
        this.#cutCarry()
      ] : [];
    }
    const blocks = [];
    let start = 0;
    if (this.#carry !== "") {
      const nl = fresh.indexOf("\n");
      blocks.push(this.#fit(clean(this.#carry + fresh.slice(0, nl))));
      start = nl + 1;
    }
    if (start <= cut) blocks.push(this.#fit(clean(fresh.slice(start, cut))));
    this.#carry = fresh.slice(cut + 1);
    if (this.#carry.length > this.#maxLine) blocks.push(this.#cutCarry());
    return blocks;
  }
  /**
   * Adds a chunk as {@link push} does, but its whole lines come back as their
   * bytes (each line ending in `\n`), not decoded: for a consumer that can
   * take bytes as they are and calls {@link text} on those it cannot. Only a
   * first line that began in the last chunk, and the unfinished last one, go
   * through the decoder, so it sees every byte that is not handed out raw,
   * and is between characters where it is.
   */
  pushRaw(chunk) {
    const last = chunk.lastIndexOf(NL);
    if (last === -1) return this.push(chunk);
    const ends = last === chunk.length - 1;
    if (this.#aligned) {
      this.#aligned = ends;
      if (ends) return [
        chunk
      ];
      this.#carry = this.#decoder.decode(chunk.subarray(last + 1), {
        stream: true
      });
      const whole = chunk.subarray(0, last + 1);
      return this.#carry.length > this.#maxLine ? [
        whole,
        this.#cutCarry()
      ] : [
        whole
      ];
    }
    this.#aligned = ends;
    const first = chunk.indexOf(NL);
    const head = this.#carry + this.#decoder.decode(chunk.subarray(0, first + 1), {
      stream: true
    });
    const blocks = [
      this.#fit(clean(head.slice(0, -1)))
    ];
    if (last > first) blocks.push(chunk.subarray(first + 1, last + 1));
    this.#carry = this.#decoder.decode(chunk.subarray(last + 1), {
      stream: true
    });
    if (this.#carry.length > this.#maxLine) blocks.push(this.#cutCarry());
    return blocks;
  }
  /** A raw block of {@link pushRaw} as a text block: decoded, CRLF cleaned, long lines split. */
  text(raw) {
    return this.#fit(clean(rawDecoder.decode(raw.subarray(0, -1))));
  }
  /** `block` with its lines longer than the cap split; checked only when a line can be that long. */
  #fit(block) {
    return block.length > this.#maxLine && longLines(block, this.#maxLine) ? splitLong(block, this.#maxLine) : block;
  }
  /** The final line without a newline, if any. */
  end() {
    const rest = this.#carry + this.#decoder.decode();
    this.#carry = "";
    this.#aligned = true;
    if (rest === "") return null;
    const line = clean(rest);
    return line.length > this.#maxLine ? splitLong(line, this.#maxLine) : line;
  }
  /** The whole pieces of a carry that grew past the longest line; the rest stays. */
  #cutCarry() {
    const pieces = [];
    while (this.#carry.length > this.#maxLine) {
      pieces.push(this.#carry.slice(0, this.#maxLine));
      this.#carry = this.#carry.slice(this.#maxLine);
    }
    return pieces.join("\n");
  }
};
function countNewlines(bytes, start = 0) {
  let n = 0;
  for (let i = bytes.indexOf(10, start); i !== -1; i = bytes.indexOf(10, i + 1)) n++;
  return n;
}
function clean(text) {
  if (!text.includes("\r")) return text;
  const lf = text.replaceAll("\r\n", "\n");
  return lf.endsWith("\r") ? lf.slice(0, -1) : lf;
}
function longLines(block, max) {
  let start = 0;
  while (start < block.length) {
    const nl = block.indexOf("\n", start);
    const end = nl === -1 ? block.length : nl;
    if (end - start > max) return true;
    if (nl === -1) return false;
    start = nl + 1;
  }
  return false;
}
function splitLong(block, max) {
  return block.split("\n").flatMap((line) => {
    const pieces = [];
    for (let i = 0; i < line.length || i === 0; i += max) pieces.push(line.slice(i, i + max));
    return pieces;
  }).join("\n");
}

// lib/logs/log_file.ts
init_errors();

// lib/logs/prefix.ts
var PREFIX_WASM = "AGFzbQEAAAABCgFgBX9/f39/AX8DAwIAAAUDAQABBx4DBm1lbW9yeQIABnByZWZpeAAACHByZWZpeDE2AAEK6wMC8wECB38DeyAD/QAEACENIAP9AAQQIQ4gAiEFIAUgDf0LBAAgBSAO/QsEECAFIARqIQUCQANAIAYgAU8NASAAIAZq/QAEACEMIAz9ZCAMQQ39D/0j/WRyBEBBfw8LIAxBCv0P/SP9ZCEIAkADQCAIRQ0BIAYgCGhqIQkgCUEBaiAHayEKQQAhCwNAIAUgC2ogACAHaiALav0ABAD9CwQAIAtBEGohCyALIApJDQALIAUgCmohBSAJQQFqIQcgBSAN/QsEACAFIA79CwQQIAUgBGohBSAIIAhBAWtxIQgMAAsLIAZBEGohBgwACwsgBSAEayACawvzAQIFfwR7IAP9AAQAIQwgAyAEakEQa/0ABAAhDSACIAz9CwQAIAIgBGpBEGsgDf0LBAAgAiAEaiAAayEGAkADQCAFIAFPDQEgBSAAaiEFIAX9AAQAIQogCyAKIApBDf0P/SP9UP1QIQsgBiAFaiAK/QsEACAKQQr9D/0j/WQhBwJAA0AgB0UNASAGIAVqIAdoQQFqaiEIIAYgBGohBiAGIAVqIAr9CwQAIAggDP0LBAAgCCAEakEQayAN/QsEACAJQQFqIQkgByAHQQFrcSEHDAALCyAFIABrQRBqIQUMAAsLIAv9ZARAQX8PCyABIAkgBGxqCw==";
var MAX_PREFIX = 32;
var SRC_PAD = 16;
var DST_SLACK = 48;
var PAGE = 64 * 1024;
var PrefixInserter = class {
  #memory;
  #prefix;
  /** The one-pass version, for prefixes of 16 bytes or more (the log file's are 31). */
  #prefix16;
  /** A view of the memory, made again when it grows. */
  #heap;
  constructor() {
    const bytes = Uint8Array.from(atob(PREFIX_WASM), (c) => c.charCodeAt(0));
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    this.#memory = instance.exports.memory;
    this.#prefix = instance.exports.prefix;
    this.#prefix16 = instance.exports.prefix16;
    this.#heap = new Uint8Array(this.#memory.buffer);
  }
  /**
   * `lines` (whole lines, the last ending in \n) with the first `plen` bytes
   * of `prefix` before each, as a view valid until the next call; null when a
   * byte is 0x80 or more, or a carriage return: such output takes the
   * decoding path.
   */
  insert(lines, prefix, plen = prefix.length) {
    if (plen > MAX_PREFIX) return null;
    const len = lines.length;
    const src = MAX_PREFIX;
    const dst = src + len + SRC_PAD;
    const need = dst + len + (len + 1) * plen + DST_SLACK;
    const have = this.#heap.length;
    if (need > have) {
      this.#memory.grow(Math.ceil((need - have) / PAGE));
      this.#heap = new Uint8Array(this.#memory.buffer);
    }
    const heap = this.#heap;
    for (let i = 0; i < plen; i++) heap[i] = prefix[i];
    heap.set(lines, src);
    heap.fill(0, src + len, src + len + SRC_PAD);
    const n = (plen >= 16 ? this.#prefix16 : this.#prefix)(src, len, dst, 0, plen);
    return n < 0 ? null : heap.subarray(dst, dst + n);
  }
};

// lib/logs/stamp.ts
var encoder = new TextEncoder();
var ROOM = 64;
var TAG = {
  stdout: " [out] ",
  stderr: " [err] "
};
var ZERO = 48;
var Stamp = class {
  #ts = NaN;
  #second = NaN;
  /** Where the milliseconds' digits are in the bytes. */
  #msAt = 0;
  #length = 0;
  #bytes = {
    stdout: new Uint8Array(ROOM),
    stderr: new Uint8Array(ROOM)
  };
  #text = null;
  /** The prefixes from now on are for `ts` (ms since the epoch). */
  at(ts) {
    if (ts === this.#ts) return;
    this.#ts = ts;
    this.#text = null;
    const t = Math.trunc(ts);
    const ms = (t % 1e3 + 1e3) % 1e3;
    if (t - ms !== this.#second) {
      this.#second = t - ms;
      const iso = new Date(t).toISOString();
      this.#msAt = iso.length - 4;
      this.#length = encoder.encodeInto(iso + TAG.stdout, this.#bytes.stdout).written;
      encoder.encodeInto(iso + TAG.stderr, this.#bytes.stderr);
      return;
    }
    const at = this.#msAt;
    const d0 = ZERO + Math.floor(ms / 100);
    const d1 = ZERO + Math.floor(ms / 10) % 10;
    const d2 = ZERO + ms % 10;
    const out = this.#bytes.stdout;
    const err = this.#bytes.stderr;
    out[at] = err[at] = d0;
    out[at + 1] = err[at + 1] = d1;
    out[at + 2] = err[at + 2] = d2;
  }
  /** The prefix's bytes for `stream`: the first {@link length} of this buffer. */
  bytes(stream) {
    return this.#bytes[stream];
  }
  /** How many bytes the prefix is (the same for both streams). */
  get length() {
    return this.#length;
  }
  /** The prefix as text. */
  text(stream) {
    if (this.#text === null) {
      const iso = new Date(Math.trunc(this.#ts)).toISOString();
      this.#text = {
        stdout: iso + TAG.stdout,
        stderr: iso + TAG.stderr
      };
    }
    return this.#text[stream];
  }
};

// lib/logs/log_file.ts
var HEAD_BYTES = 64;
function rotatedNames(path, keep) {
  return Array.from({
    length: keep
  }, (_, i) => `${path}.${i + 1}`);
}
var encoder2 = new TextEncoder();
var headDecoder = new TextDecoder();
var NL2 = 10;
var inserter;
var RECHECK_MS = 20;
var REMOVING = ".removing";
var LogFile = class {
  path;
  opts;
  #file;
  /** The removal of the file the last rotation dropped, while under way. */
  #removal;
  #ino;
  #checkedAt;
  #size;
  /** Lines not written yet: `#pending[0, #used)`, grown as needed and reused. */
  #pending;
  #used;
  #stamp;
  /** Lines that could not be written to the file. */
  writeErrors;
  /** The last write error, for status. */
  lastWriteError;
  constructor(path, opts) {
    this.path = path;
    this.opts = opts;
    this.#file = null;
    this.#removal = null;
    this.#ino = null;
    this.#checkedAt = -Infinity;
    this.#size = 0;
    this.#pending = new Uint8Array(0);
    this.#used = 0;
    this.#stamp = new Stamp();
    this.writeErrors = 0;
    this.lastWriteError = null;
  }
  /** Buffers one line; call {@link flush} to write. */
  append(stream, line, ts) {
    this.appendBlock(stream, ts, line);
  }
  /**
   * Buffers the lines of `block` (joined by `\n`), each as `<time> [out] <line>`.
   * The prefix is made once per millisecond (stamp.ts) and inserted with one native call.
   */
  appendBlock(stream, ts, block) {
    this.#stamp.at(ts);
    const prefix = this.#stamp.text(stream);
    const lines = block.includes("\n") ? block.replaceAll("\n", `
${prefix}`) : block;
    this.#reserve((prefix.length + lines.length + 1) * 3);
    this.#used += encoder2.encodeInto(prefix, this.#pending.subarray(this.#used)).written;
    this.#used += encoder2.encodeInto(lines, this.#pending.subarray(this.#used)).written;
    this.#pending[this.#used++] = NL2;
  }
  /**
   * Buffers raw whole lines (each ending in `\n`) as {@link appendBlock} would
   * their text: as bytes where they are plain (prefix.ts), else as `text(raw)`.
   */
  appendRaw(stream, ts, raw, text) {
    const stamp = this.#stamp;
    stamp.at(ts);
    const bytes = (inserter ??= new PrefixInserter()).insert(raw, stamp.bytes(stream), stamp.length);
    if (bytes === null) return this.appendBlock(stream, ts, text(raw));
    this.#reserve(bytes.length);
    this.#pending.set(bytes, this.#used);
    this.#used += bytes.length;
  }
  /** Room for `bytes` more in the buffer. */
  #reserve(bytes) {
    if (this.#used + bytes <= this.#pending.length) return;
    const grown = new Uint8Array(Math.max(this.#used + bytes, this.#pending.length * 2));
    grown.set(this.#pending.subarray(0, this.#used));
    this.#pending = grown;
  }
  /** Bytes buffered and not yet written. */
  get pendingBytes() {
    return this.#used;
  }
  /** Writes everything buffered, rotating where the size limit falls (always between lines). */
  flush() {
    if (this.#used === 0) return;
    const bytes = this.#pending.subarray(0, this.#used);
    this.#used = 0;
    if (this.#pending.length > 4 * 1024 * 1024) this.#pending = new Uint8Array(0);
    let start = 0;
    try {
      this.#ensureOpen();
      while (start < bytes.length) {
        const room = this.opts.maxSize - this.#size;
        if (bytes.length - start <= room) {
          this.#write(bytes.subarray(start));
          break;
        }
        const cut = room > 0 ? bytes.lastIndexOf(NL2, start + room - 1) : -1;
        if (cut >= start) {
          this.#write(bytes.subarray(start, cut + 1));
          start = cut + 1;
        } else if (this.#size === 0) {
          const end = bytes.indexOf(NL2, start);
          this.#write(bytes.subarray(start, end + 1));
          start = end + 1;
        }
        if (start < bytes.length) this.#rotate();
      }
      this.lastWriteError = null;
    } catch (e) {
      this.writeErrors += countNewlines(bytes, start);
      this.lastWriteError = errorMessage(e);
      this.#closeFile();
    }
  }
  /**
   * Flushes, then names each file as it is now (inode and size), newest first:
   * what a tail read from the files covers, whatever rotation does meanwhile.
   */
  segments() {
    this.flush();
    const out = [];
    const head = new Uint8Array(HEAD_BYTES);
    for (const name of [
      this.path,
      ...rotatedNames(this.path, this.opts.keep)
    ]) {
      let file;
      try {
        file = Deno.openSync(name, {
          read: true
        });
      } catch {
        continue;
      }
      try {
        const { ino, size } = file.statSync();
        const n = file.readSync(head) ?? 0;
        if (ino !== null) out.push({
          ino,
          size,
          head: headDecoder.decode(head.subarray(0, n))
        });
      } finally {
        file.close();
      }
    }
    return out;
  }
  /** Flushes and closes. */
  close() {
    this.flush();
    this.#closeFile();
  }
  #ensureOpen() {
    const now = this.opts.now?.() ?? performance.now();
    if (this.#file) {
      if (now - this.#checkedAt < RECHECK_MS) return;
      this.#checkedAt = now;
      let ino = null;
      try {
        ino = Deno.statSync(this.path).ino;
      } catch {
        ino = null;
      }
      if (ino !== null && ino === this.#ino) return;
      this.#closeFile();
    }
    const dir = this.path.slice(0, this.path.lastIndexOf("/"));
    Deno.mkdirSync(dir, {
      recursive: true,
      mode: 448
    });
    const file = Deno.openSync(this.path, {
      create: true,
      append: true,
      mode: 384
    });
    const stat = file.statSync();
    this.#file = file;
    this.#ino = stat.ino;
    this.#checkedAt = now;
    this.#size = stat.size;
  }
  #write(bytes) {
    const file = this.#file;
    let off = 0;
    while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
    this.#size += bytes.length;
  }
  #rotate() {
    this.#closeFile();
    const names = rotatedNames(this.path, this.opts.keep);
    const aside = `${this.path}${REMOVING}`;
    let moved = false;
    if (this.#removal === null) {
      try {
        Deno.renameSync(names.at(-1) ?? this.path, aside);
        moved = true;
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
    if (names.length === 0) {
      if (!moved) Deno.truncateSync(this.path, 0);
    } else {
      for (let i = names.length - 1; i > 0; i--) {
        try {
          Deno.renameSync(names[i - 1], names[i]);
        } catch (e) {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        }
      }
      Deno.renameSync(this.path, names[0]);
    }
    this.#ensureOpen();
    if (moved) {
      this.#removal = Deno.remove(aside).catch(() => {
      }).finally(() => this.#removal = null);
    }
  }
  /** Resolves once the file a rotation dropped is removed (tests: no async call left running). */
  async settled() {
    await this.#removal;
  }
  #closeFile() {
    try {
      this.#file?.close();
    } catch {
    }
    this.#file = null;
    this.#ino = null;
  }
};

// lib/logs/ring.ts
var RING_BYTES = 1024 * 1024;
var MAX_CHUNKS = RING_BYTES / 32;
var FIRST_SIZE = 4096;
var NL3 = 10;
var encoder3 = new TextEncoder();
var LogRing = class {
  capacity;
  #buf;
  #chunks;
  #head;
  /** Where the next chunk goes. */
  #end;
  #bytes;
  /** Whether the oldest chunk held of each stream begins a line. */
  #cleanStart;
  constructor(capacity = RING_BYTES) {
    this.capacity = capacity;
    this.#buf = new Uint8Array(0);
    this.#chunks = [];
    this.#head = 0;
    this.#end = 0;
    this.#bytes = 0;
    this.#cleanStart = {
      stdout: true,
      stderr: true
    };
  }
  /** Appends a copy of `bytes`, read from `stream` at `ts`. */
  pushChunk(stream, ts, bytes) {
    if (bytes.length === 0) return;
    const cut = bytes.length > this.capacity;
    if (cut) bytes = bytes.subarray(bytes.length - this.capacity);
    this.#reserve(bytes.length);
    if (cut) this.#cleanStart[stream] = false;
    this.#buf.set(bytes, this.#end);
    this.#chunks.push({
      stream,
      ts,
      off: this.#end,
      len: bytes.length
    });
    this.#end += bytes.length;
    this.#bytes += bytes.length;
  }
  /** Makes `[#end, #end + len)` free: grow while small, else wrap and overwrite the oldest. */
  #reserve(len) {
    if (this.#end + len > this.#buf.length && this.#buf.length < this.capacity) {
      let size = Math.max(this.#buf.length, FIRST_SIZE);
      while (size < this.#end + len) size *= 2;
      const grown = new Uint8Array(Math.min(size, this.capacity));
      grown.set(this.#buf.subarray(0, this.#end));
      this.#buf = grown;
    }
    let lapEnd = Infinity;
    if (this.#end + len > this.#buf.length) [lapEnd, this.#end] = [
      this.#end,
      0
    ];
    const end = this.#end + len;
    while (this.#head < this.#chunks.length) {
      const c = this.#chunks[this.#head];
      const overlaps = c.off >= lapEnd || c.off < end && c.off + c.len > this.#end;
      if (!overlaps && this.#chunks.length - this.#head < MAX_CHUNKS) break;
      this.#bytes -= c.len;
      this.#cleanStart[c.stream] = this.#buf[c.off + c.len - 1] === NL3;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#chunks.length) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }
  /** Appends one whole line (tests, and lines that did not come from a pipe). */
  push(item) {
    this.pushChunk(item.stream, item.ts, encoder3.encode(`${item.line}
`));
  }
  /** Size counted against the capacity. */
  get bytes() {
    return this.#bytes;
  }
  /**
   * The last `n` lines (all when `n` is undefined), of `stream` when given,
   * oldest first. Only the chunks that can hold them are turned into lines;
   * the oldest chunk's first line, which may have begun before it, is left
   * out, and so is a last line not finished yet.
   */
  tail(n, stream) {
    const limit = n ?? Infinity;
    let from = this.#chunks.length;
    let ends = 0;
    while (from > this.#head && ends <= limit) {
      const c = this.#chunks[--from];
      if (!stream || c.stream === stream) ends += countNewlines(this.#view(c));
    }
    const splitters = {
      stdout: new LineBlocks(),
      stderr: new LineBlocks()
    };
    const started = {
      stdout: this.#beginsLine("stdout", from),
      stderr: this.#beginsLine("stderr", from)
    };
    const out = [];
    for (let i = from; i < this.#chunks.length; i++) {
      const c = this.#chunks[i];
      if (stream && c.stream !== stream) continue;
      let bytes = this.#view(c);
      if (!started[c.stream]) {
        const nl = bytes.indexOf(NL3);
        if (nl === -1) continue;
        bytes = bytes.subarray(nl + 1);
        started[c.stream] = true;
      }
      for (const block of splitters[c.stream].push(bytes)) {
        for (const line of block.split("\n")) out.push({
          stream: c.stream,
          line,
          ts: c.ts
        });
      }
    }
    return n === void 0 ? out : n === 0 ? [] : out.slice(-n);
  }
  /** Whether the first chunk of `stream` from index `from` on begins a line. */
  #beginsLine(stream, from) {
    for (let i = from - 1; i >= this.#head; i--) {
      const c = this.#chunks[i];
      if (c.stream === stream) return this.#buf[c.off + c.len - 1] === NL3;
    }
    return this.#cleanStart[stream];
  }
  #view(c) {
    return this.#buf.subarray(c.off, c.off + c.len);
  }
};

// lib/logs/follow.ts
var FOLLOW_BATCH_BYTES = 8 * 1024 * 1024;
var LINE_OVERHEAD = 64;
var FollowQueue = class {
  #handOut;
  /** Blocks not handed out yet; null while nobody follows. */
  #blocks = null;
  #lines = 0;
  #bytes = 0;
  #dropped = 0;
  #droppedStderr = 0;
  #out = false;
  #numbered;
  /** `numberedBefore`: the lines an actor this one replaces numbered. */
  constructor(handOut, numberedBefore = 0) {
    this.#handOut = handOut;
    this.#numbered = numberedBefore;
  }
  /** Lines numbered so far, dropped ones and those still to go out included. */
  get numbered() {
    return this.#numbered;
  }
  /** Whether lines are gathered at all: only while somebody follows. */
  get on() {
    return this.#blocks !== null;
  }
  /** Whether a batch could go out now: lines wait, kept or dropped, and none is out. */
  get ready() {
    return !this.#out && (this.#lines > 0 || this.#dropped > 0);
  }
  /** Turns gathering on or off; off forgets what waits. */
  follow(on) {
    if (on) this.#blocks ??= [];
    else {
      this.#blocks = null;
      this.#reset();
    }
  }
  /** A block of lines read at `ts` (`text`: the lines joined by `\n`). */
  add(stream, ts, text) {
    const blocks = this.#blocks;
    if (blocks === null) return;
    const lines = countLines(text);
    this.#numbered += lines;
    if (this.#bytes > FOLLOW_BATCH_BYTES) {
      this.#dropped += lines;
      if (stream === "stderr") this.#droppedStderr += lines;
      return;
    }
    blocks.push({
      stream,
      ts,
      text,
      lines
    });
    this.#lines += lines;
    this.#bytes += text.length + lines * LINE_OVERHEAD;
  }
  /** Hands the batch out, unless the last is not taken yet. */
  flush() {
    const blocks = this.#blocks;
    if (blocks === null || !this.ready) return;
    const batch = {
      blocks,
      lines: this.#lines,
      sent: this.#numbered,
      dropped: this.#dropped,
      droppedStderr: this.#droppedStderr
    };
    this.#blocks = [];
    this.#reset();
    this.#out = true;
    this.#handOut(batch);
  }
  /** The batch handed out last was handled: what gathered since goes out. */
  taken() {
    this.#out = false;
    this.flush();
  }
  #reset() {
    this.#lines = 0;
    this.#bytes = 0;
    this.#dropped = 0;
    this.#droppedStderr = 0;
  }
};
function countLines(text) {
  let n = 1;
  for (let at = text.indexOf("\n"); at !== -1; at = text.indexOf("\n", at + 1)) n++;
  return n;
}

// lib/logs/capture.ts
var NEWLINE = new Uint8Array([
  10
]);
var FLUSH_MS = 20;
var FLUSH_BYTES = 256 * 1024;
var DEFAULT_FILE_TAIL = 100;
var LogCapture = class {
  #file;
  #ring = new LogRing();
  #clock;
  #opts;
  #flushTimer = null;
  #follow;
  constructor(opts) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#follow = new FollowQueue((b) => opts.onFollowLines?.(b), opts.numberedBefore);
    this.#file = new LogFile(opts.path, {
      maxSize: opts.maxSize,
      keep: opts.keep
    });
  }
  /** The log file's path. */
  get path() {
    return this.#file.path;
  }
  /** Lines that could not be written to the file. */
  get writeErrors() {
    return this.#file.writeErrors;
  }
  /** Turns collecting lines for followers on or off. */
  follow(on) {
    this.#follow.follow(on);
  }
  /** The follow batch handed out last was handled: what gathered since goes out. */
  taken() {
    this.#follow.taken();
  }
  /**
   * Reads `stream` until it ends or is cancelled, a block of whole lines at a
   * time; `resize` sets the capacity of its pipe (chunk_reader.ts).
   */
  attach(stream, name, resize) {
    const reader = chunkReader(stream, resize);
    const lines = new LineBlocks();
    const text = (raw) => lines.text(raw);
    const done = (async () => {
      try {
        while (true) {
          const value = await reader.read();
          if (value === null) break;
          const ts = this.#clock.now();
          for (let at = 0; at < value.length; at += PIPE_DEFAULT) {
            const slice = value.length <= PIPE_DEFAULT ? value : value.subarray(at, at + PIPE_DEFAULT);
            this.#ring.pushChunk(name, ts, slice);
            for (const block of lines.pushRaw(slice)) this.#take(name, ts, block, text);
          }
          this.#settle(!reader.full);
        }
      } catch {
      }
      const last = lines.end();
      if (last !== null) {
        const ts = this.#clock.now();
        this.#ring.pushChunk(name, ts, NEWLINE);
        this.#take(name, ts, last, text);
      }
      this.#settle(true);
    })();
    return {
      done,
      cancel: async () => {
        await reader.cancel().catch(() => {
        });
        await done;
      }
    };
  }
  /** Writes what is buffered to the file and hands the follow batch out. */
  flush() {
    if (this.#flushTimer !== null) this.#clock.clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    this.#writeFile();
    this.#follow.flush();
  }
  #writeFile() {
    const errors = this.#file.writeErrors;
    this.#file.flush();
    if (this.#file.writeErrors !== errors) this.#opts.onWriteErrors?.();
  }
  /**
   * After a chunk: when it drained the pipe, its lines go to the file now;
   * what still waits (the file's lines, or the followers') goes within
   * {@link FLUSH_MS}.
   */
  #settle(drained) {
    if (drained) this.#writeFile();
    const waiting = this.#file.pendingBytes > 0 || this.#follow.ready;
    if (waiting && this.#flushTimer === null) {
      this.#flushTimer = this.#clock.setTimeout(() => this.flush(), FLUSH_MS);
    }
  }
  /**
   * The last `tail` lines (all the ring holds when undefined), of `stream`
   * when given: from the ring when it holds enough, else the files to read
   * them from (flushed first, so they hold every line up to now).
   */
  snapshot(tail, stream) {
    const sent = this.#follow.numbered;
    const fromRing = this.#ring.tail(tail, stream);
    const want = tail ?? (fromRing.length === 0 ? DEFAULT_FILE_TAIL : 0);
    if (fromRing.length >= want) return {
      lines: fromRing,
      sent
    };
    return {
      files: this.#file.segments(),
      want,
      sent
    };
  }
  /** The last `n` stderr lines the ring holds. */
  stderrTail(n) {
    return this.#ring.tail(n, "stderr").map((l) => l.line);
  }
  /** Flushes and closes the file. */
  close() {
    this.flush();
    this.#file.close();
  }
  /**
   * One block of lines, read at `ts`, as text or raw (lines.ts; `text` makes a
   * raw one text): to the file and the followers (the ring has the bytes).
   */
  #take(stream, ts, block, text) {
    if (typeof block === "string") this.#file.appendBlock(stream, ts, block);
    else this.#file.appendRaw(stream, ts, block, text);
    if (this.#follow.on) {
      this.#follow.add(stream, ts, typeof block === "string" ? block : text(block));
    }
    if (this.#file.pendingBytes >= FLUSH_BYTES) this.flush();
  }
};

// lib/process/port.ts
init_poll();
var tcpPortGuard = async (port) => {
  if (!await portInUse(port)) return null;
  const owner = await portOwner(port);
  return `port ${port} is already in use${owner ? ` by ${owner}` : ""}`;
};
var ConnectTimeout = class extends Error {
};
async function portInUse(port, timeoutMs = 1e3) {
  try {
    const conn = await withDeadline(Deno.connect({
      hostname: "127.0.0.1",
      port
    }), timeoutMs, {
      onTimeout: () => new ConnectTimeout(),
      late: (c) => c.close()
    });
    const self2 = isSelfConnect(conn.localAddr, conn.remoteAddr);
    conn.close();
    return !self2;
  } catch (e) {
    return e instanceof ConnectTimeout;
  }
}
function isSelfConnect(local, remote) {
  return local.hostname === remote.hostname && local.port === remote.port;
}
async function portOwner(port) {
  if (Deno.build.os !== "linux") return void 0;
  const inodes = /* @__PURE__ */ new Set();
  for (const table of [
    "/proc/net/tcp",
    "/proc/net/tcp6"
  ]) {
    let text;
    try {
      text = await Deno.readTextFile(table);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      const local = f[1];
      if (!local || f[3] !== "0A") continue;
      if (parseInt(local.slice(local.lastIndexOf(":") + 1), 16) === port && f[9]) inodes.add(f[9]);
    }
  }
  if (inodes.size === 0) return void 0;
  try {
    for await (const proc of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(proc.name)) continue;
      try {
        for await (const fd of Deno.readDir(`/proc/${proc.name}/fd`)) {
          const target = await Deno.readLink(`/proc/${proc.name}/fd/${fd.name}`).catch(() => "");
          const m = /^socket:\[(\d+)\]$/.exec(target);
          if (m && inodes.has(m[1])) {
            const comm = (await Deno.readTextFile(`/proc/${proc.name}/comm`).catch(() => "")).trim();
            return `pid ${proc.name}${comm ? ` (${comm})` : ""}`;
          }
        }
      } catch {
      }
    }
  } catch {
    return void 0;
  }
  return void 0;
}

// lib/process/spawner.ts
init_errors();

// lib/process/command_check.ts
var FOUND_FOR_MS = 1e3;
var found = /* @__PURE__ */ new Map();
function commandProblem(command, opts) {
  const now = opts.now ?? performance.now();
  const key = `${command}\0${opts.path ?? ""}\0${opts.cwd ?? ""}`;
  const at = found.get(key);
  if (at !== void 0 && now - at < FOUND_FOR_MS) return void 0;
  const problem = lookUp(command, opts);
  if (problem === void 0) {
    if (found.size >= 256) found.clear();
    found.set(key, now);
  } else {
    found.delete(key);
  }
  return problem;
}
function lookUp(command, opts) {
  const file = locate(command, opts);
  if (file === void 0) {
    return command.includes("/") ? `command "${command}" not found (or its interpreter is missing)` : `command "${command}" not found on PATH`;
  }
  const info = Deno.statSync(file);
  if (!info.isFile || info.mode === null || (info.mode & 73) === 0) {
    return `command "${command}" is not executable (or is a directory)`;
  }
  const interpreter = shebang(file);
  if (interpreter !== void 0 && interpreter.startsWith("/") && !exists(interpreter)) {
    return `command "${command}" not found (or its interpreter is missing)`;
  }
  return void 0;
}
function locate(command, opts) {
  if (command.includes("/")) {
    const file = command.startsWith("/") ? command : `${opts.cwd ?? Deno.cwd()}/${command}`;
    return exists(file) ? file : void 0;
  }
  for (const dir of (opts.path ?? "").split(":")) {
    if (dir === "") continue;
    const file = `${dir}/${command}`;
    try {
      const info = Deno.statSync(file);
      if (info.isFile && info.mode !== null && (info.mode & 73) !== 0) return file;
    } catch {
    }
  }
  return void 0;
}
function shebang(file) {
  let f;
  try {
    f = Deno.openSync(file, {
      read: true
    });
    const head = new Uint8Array(256);
    const n = f.readSync(head) ?? 0;
    if (n < 2 || head[0] !== 35 || head[1] !== 33) return void 0;
    const line = new TextDecoder().decode(head.subarray(2, n)).split("\n")[0].trim();
    return line.split(/\s+/)[0];
  } catch {
    return void 0;
  } finally {
    f?.close();
  }
}
function exists(path) {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

// lib/process/group.ts
function assertPid(pid) {
  if (!Number.isSafeInteger(pid) || pid <= 1) throw new RangeError(`refusing to signal pid ${pid}`);
}
function signalGroup(pgid, signal) {
  assertPid(pgid);
  try {
    Deno.kill(-pgid, signal);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    if (e instanceof Deno.errors.PermissionDenied) return true;
    throw e;
  }
}
var lastSeen = /* @__PURE__ */ new Map();
async function groupAlive(pgid) {
  if (!signalGroup(pgid, "SIGCONT")) {
    lastSeen.delete(pgid);
    return false;
  }
  if (Deno.build.os !== "linux") return true;
  for (const pid of lastSeen.get(pgid) ?? []) {
    if (isLiveMember(await readStat(pid), pgid)) return true;
  }
  try {
    const members = [];
    for await (const entry of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      const pid = Number(entry.name);
      if (isLiveMember(await readStat(pid), pgid)) members.push(pid);
    }
    if (members.length === 0) lastSeen.delete(pgid);
    else lastSeen.set(pgid, members);
    return members.length > 0;
  } catch {
    return true;
  }
}
function isLiveMember(stat, pgid) {
  return stat !== void 0 && stat.pgrp === pgid && stat.state !== "Z" && stat.state !== "X";
}
async function readStat(pid) {
  try {
    return parseStat(await Deno.readTextFile(`/proc/${pid}/stat`));
  } catch {
    return void 0;
  }
}
function parseStat(text) {
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return {
    state: rest[0] ?? "?",
    pgrp: Number(rest[2]),
    startTime: Number(rest[19])
  };
}

// lib/process/pipe_size.ts
var F_SETPIPE_SZ = 1031;
var noLibc = false;
function setPipeSize(pid, fd, bytes) {
  if (Deno.build.os !== "linux" || noLibc) return false;
  let pipe;
  try {
    pipe = Deno.readLinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return false;
  }
  if (!pipe.startsWith("pipe:")) return false;
  const own = ownDescriptor(pipe);
  if (own === null) return false;
  let libc;
  try {
    libc = Deno.dlopen("libc.so.6", {
      fcntl: {
        parameters: [
          "i32",
          "i32",
          "i32"
        ],
        result: "i32"
      }
    });
  } catch {
    noLibc = true;
    return false;
  }
  try {
    return libc.symbols.fcntl(own, F_SETPIPE_SZ, bytes) >= 0;
  } finally {
    libc.close();
  }
}
function ownDescriptor(link) {
  try {
    for (const entry of Deno.readDirSync("/proc/self/fd")) {
      try {
        if (Deno.readLinkSync(`/proc/self/fd/${entry.name}`) === link) return Number(entry.name);
      } catch {
      }
    }
  } catch {
  }
  return null;
}

// lib/process/spawner.ts
var SpawnError = class extends Error {
  name = "SpawnError";
};
var SETSID = [
  "/usr/bin/setsid",
  "/bin/setsid"
].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});
var denoSpawner = {
  spawn(spec) {
    if (spec.cwd !== void 0) {
      let isDir = false;
      try {
        isDir = Deno.statSync(spec.cwd).isDirectory;
      } catch {
        throw new SpawnError(`working-dir "${spec.cwd}" does not exist`);
      }
      if (!isDir) throw new SpawnError(`working-dir "${spec.cwd}" is not a directory`);
    }
    if (SETSID) {
      const problem = commandProblem(spec.command, {
        path: spec.env.PATH ?? Deno.env.get("PATH"),
        ...spec.cwd === void 0 ? {} : {
          cwd: spec.cwd
        }
      });
      if (problem) throw new SpawnError(problem);
    }
    let child;
    try {
      child = new Deno.Command(SETSID ?? spec.command, {
        args: SETSID ? [
          spec.command,
          ...spec.args
        ] : [
          ...spec.args
        ],
        env: {
          ...spec.env
        },
        ...spec.cwd === void 0 ? {} : {
          cwd: spec.cwd
        },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        detached: !SETSID
      }).spawn();
    } catch (e) {
      throw new SpawnError(describeSpawnError(spec.command, e));
    }
    if (SETSID) {
      unreaped.add(child.pid);
      child.status.finally(() => unreaped.delete(child.pid));
    }
    const status = child.status.then((s) => ({
      // Deno reports a signal death as code 128+N with `signal` set; keep the signal alone.
      code: s.signal ? null : s.code,
      signal: s.signal ?? null
    }));
    let reaped = false;
    status.then(() => reaped = true, () => reaped = true);
    return {
      pid: child.pid,
      status,
      stdout: child.stdout,
      stderr: child.stderr,
      resizePipe: (stream, bytes) => !reaped && setPipeSize(child.pid, stream === "stdout" ? 1 : 2, bytes)
    };
  },
  signalGroup(pgid, signal) {
    if (signalGroup(pgid, signal)) return true;
    if (!unreaped.has(pgid)) return false;
    try {
      Deno.kill(pgid, signal);
      return true;
    } catch {
      return false;
    }
  },
  async groupAlive(pgid) {
    return unreaped.has(pgid) || await groupAlive(pgid);
  }
};
var unreaped = /* @__PURE__ */ new Set();
function describeSpawnError(command, e) {
  if (e instanceof Deno.errors.NotFound) {
    return command.includes("/") ? `command "${command}" not found (or its interpreter is missing)` : `command "${command}" not found on PATH`;
  }
  if (e instanceof Deno.errors.PermissionDenied) {
    return `command "${command}" is not executable (or is a directory)`;
  }
  return `cannot start "${command}": ${errorMessage(e)}`;
}

// lib/supervisor/answers.ts
var START_FAILURE = {
  spawn_failed: "SpawnFailed",
  port_conflict: "PortConflict",
  crash_loop: "SpawnFailed"
};
function answer(command, model) {
  const s = model.state;
  if (command === "stop") return s.kind === "stopping" ? void 0 : {
    done: true
  };
  switch (s.kind) {
    case "running":
      return {
        done: true
      };
    case "starting":
      return s.pid === null ? void 0 : {
        done: true
      };
    case "failed":
      return {
        error: {
          failure: START_FAILURE[s.cause],
          message: s.reason
        }
      };
    case "stopped":
      return {
        error: {
          failure: "NotRunning",
          message: "stopped before it was up"
        }
      };
    case "stopping":
    case "restarting":
      return void 0;
  }
}

// lib/supervisor/child_watch.ts
init_poll();
var PIPE_DRAIN_MS = 1e3;
async function watchChild(child, opts) {
  const { spawner, logs, clock } = opts;
  const pipes = [
    "stdout",
    "stderr"
  ].map((name) => logs.attach(child[name], name, child.resizePipe && ((bytes) => child.resizePipe(name, bytes))));
  const { code, signal } = await child.status;
  const groupAlive2 = await spawner.groupAlive(child.pid).catch(() => false);
  if (!groupAlive2) {
    await collect(pipes, logs, clock);
    opts.onExit({
      code,
      signal,
      groupAlive: groupAlive2
    });
    return true;
  }
  opts.onExit({
    code,
    signal,
    groupAlive: groupAlive2
  });
  const gone = await pollUntil(async () => !await spawner.groupAlive(child.pid), {
    timeoutMs: opts.groupTimeoutMs
  });
  await collect(pipes, logs, clock);
  if (gone) opts.onGroupGone();
  return gone === true;
}
async function collect(pipes, logs, clock) {
  let timer;
  await Promise.race([
    Promise.all(pipes.map((p) => p.done)),
    new Promise((r) => timer = clock.setTimeout(() => r(null), PIPE_DRAIN_MS))
  ]);
  if (timer !== void 0) clock.clearTimeout(timer);
  await Promise.all(pipes.map((p) => p.cancel()));
  logs.flush();
}

// lib/process/markers.ts
var SERVER_MARK = "XY_SERVER";
var RUN_MARK = "XY_RUN";
var decoder = new TextDecoder();

// lib/process/records.ts
function newRunId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [
    ...bytes
  ].map((b) => b.toString(16).padStart(2, "0")).join("");
}
function fileOf(dir, record) {
  return `${dir}/${record.name}${record.run ? `.${record.run}` : ""}.json`;
}
function writeRecord(dir, record) {
  const file = fileOf(dir, record);
  const tmp = `${dir}/.${file.slice(dir.length + 1)}.tmp`;
  const text = JSON.stringify(record) + "\n";
  try {
    Deno.writeTextFileSync(tmp, text, {
      mode: 384
    });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    Deno.mkdirSync(dir, {
      recursive: true,
      mode: 448
    });
    Deno.writeTextFileSync(tmp, text, {
      mode: 384
    });
  }
  Deno.renameSync(tmp, file);
}
async function removeRecord(dir, record) {
  await Deno.remove(fileOf(dir, record)).catch(() => {
  });
}
async function recordChild(dir, record, pid) {
  try {
    const startTime = await processStartTime(pid);
    if (startTime === void 0) return;
    writeRecord(dir, {
      ...record,
      pid,
      pgid: pid,
      start_time: startTime
    });
  } catch {
  }
}
async function processStartTime(pid) {
  if (Deno.build.os === "linux") {
    const stat = await readStat(pid);
    return stat && stat.state !== "Z" ? String(stat.startTime) : void 0;
  }
  try {
    const out = await new Deno.Command("ps", {
      args: [
        "-o",
        "lstart=",
        "-p",
        String(pid)
      ],
      stderr: "null"
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    return out.success && text ? text : void 0;
  } catch {
    return void 0;
  }
}

// lib/supervisor/launch.ts
async function launch(c, opts) {
  const conflict = await opts.portGuard(c.port);
  if (conflict) return {
    reason: conflict,
    cause: "port_conflict"
  };
  const { records } = opts;
  const run = newRunId();
  const record = {
    name: c.name,
    run,
    ...records ? {
      daemon: records.daemon
    } : {},
    grace_ms: opts.graceMs
  };
  if (records) {
    try {
      writeRecord(records.dir, record);
    } catch {
    }
  }
  let child;
  try {
    child = opts.spawner.spawn({
      command: c.command,
      args: c.args,
      env: {
        ...c.env,
        [SERVER_MARK]: c.name,
        [RUN_MARK]: run
      },
      ...c.workingDir === void 0 ? {} : {
        cwd: c.workingDir
      }
    });
  } catch (e) {
    if (records) await removeRecord(records.dir, record);
    const reason = e instanceof SpawnError ? e.message : `spawn failed: ${String(e)}`;
    return {
      reason,
      cause: "spawn_failed"
    };
  }
  const recorded = records ? recordChild(records.dir, record, child.pid) : Promise.resolve();
  return {
    child,
    record,
    recorded
  };
}

// lib/supervisor/actor.ts
init_probe();

// lib/supervisor/model.ts
var HISTORY = 20;
var READY_PROBE_FIRST_MS = 50;
var READY_PROBE_MAX_MS = 500;
var UNKNOWN_HEALTH = {
  status: "unknown",
  failures: 0,
  last: null
};
var KILL_WAIT_MS = 2e3;
function initialModel() {
  return {
    state: {
      kind: "stopped"
    },
    window: [],
    attempt: 0,
    restartCount: 0,
    lastExit: null,
    lastError: null,
    transitions: [],
    health: UNKNOWN_HEALTH
  };
}
function pidOf(state) {
  switch (state.kind) {
    case "starting":
    case "running":
    case "stopping":
      return state.pid;
    case "stopped":
    case "restarting":
    case "failed":
      return null;
    default:
      return unreachable(state);
  }
}
function describeExit(exit) {
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}
function unreachable(x) {
  throw new Error(`unhandled case: ${JSON.stringify(x)}`);
}
function machineConfig(c) {
  return {
    restart: c.restart,
    graceMs: c.stop.graceMs,
    ...c.health ? {
      health: {
        intervalMs: c.health.intervalMs,
        retries: c.health.retries,
        startPeriodMs: c.health.startPeriodMs
      }
    } : {}
  };
}

// lib/config/units.ts
var SIZE_UNITS = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3
};
var MAX_DURATION_MS = 24 * 36e5;
function formatDuration(ms) {
  if (ms < 1e3) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.floor(ms / 1e3);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m ${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d ${h % 24}h` : `${d}d`;
}
function formatSetting(ms) {
  return ms % 1e3 === 0 ? formatDuration(ms) : `${ms}ms`;
}

// lib/supervisor/readiness.ts
init_probe();
function onProbeTimer(tx) {
  const s = tx.state;
  if ((s.kind === "starting" || s.kind === "running") && s.pid !== null && tx.config.health) {
    tx.effects.push({
      kind: "probe",
      pid: s.pid
    });
  }
}
function onReadyTimer(tx) {
  const s = tx.state;
  const health = tx.config.health;
  if (s.kind !== "starting" || s.pid === null || !health) return;
  const end = s.since + health.startPeriodMs;
  if (tx.now < end) {
    tx.effects.push({
      kind: "set_timer",
      timer: "ready",
      at: end
    });
    return;
  }
  const last = tx.model.health.last;
  const why = `not ready after ${formatSetting(health.startPeriodMs)}: ` + (last ? last.message : "no probe came back");
  tx.terminate(s.pid, {
    ranSince: s.since,
    then: "policy",
    reason: why,
    failure: why
  });
}
function onProbed(tx, pid, result) {
  const s = tx.state;
  const health = tx.config.health;
  if (!health || s.kind !== "starting" && s.kind !== "running" || s.pid !== pid) return;
  const last = {
    ...result,
    at: tx.now
  };
  const next = (delay) => tx.effects.push({
    kind: "set_timer",
    timer: "probe",
    at: tx.now + delay
  });
  if (probeOk(result)) {
    const ok = {
      status: result.status === "needs-auth" ? "needs-auth" : "healthy",
      failures: 0,
      last
    };
    if (s.kind === "starting") {
      tx.go({
        kind: "running",
        pid,
        since: s.since
      }, `ready: ${result.message}`, {
        health: ok
      });
      tx.effects.push({
        kind: "cancel_timer",
        timer: "ready"
      });
    } else tx.model = {
      ...tx.model,
      health: ok
    };
    next(health.intervalMs);
    return;
  }
  const failures = tx.model.health.failures + 1;
  if (s.kind === "starting") {
    tx.model = {
      ...tx.model,
      health: {
        status: "unknown",
        failures,
        last
      }
    };
    next(Math.min(READY_PROBE_FIRST_MS * 2 ** failures, READY_PROBE_MAX_MS, health.intervalMs));
    return;
  }
  if (failures < health.retries) {
    tx.model = {
      ...tx.model,
      health: {
        ...tx.model.health,
        failures,
        last
      }
    };
    next(health.intervalMs);
    return;
  }
  const why = `unhealthy: ${failures} probes failed in a row: ${result.message}`;
  tx.terminate(pid, {
    ranSince: s.since,
    then: "policy",
    reason: why,
    failure: why,
    patch: {
      health: {
        status: "unhealthy",
        failures,
        last
      }
    }
  });
}

// lib/supervisor/backoff.ts
function backoffDelay(attempt, opts) {
  if (opts.initialMs <= 0) return 0;
  return Math.min(opts.maxMs, opts.initialMs * 2 ** Math.max(0, attempt));
}

// lib/supervisor/retry_window.ts
var WINDOW_MS = 6e4;
function pruneWindow(window, now) {
  return window.filter((t) => t > now - WINDOW_MS);
}
function admitRestart(window, opts) {
  const live2 = pruneWindow(window, opts.now);
  if (live2.length >= opts.max) return {
    allowed: false,
    window: live2
  };
  return {
    allowed: true,
    window: [
      ...live2,
      opts.now
    ]
  };
}

// lib/supervisor/transaction.ts
var live = (k) => k === "starting" || k === "running";
var Tx = class {
  model;
  now;
  config;
  effects;
  constructor(model, now, config) {
    this.model = model;
    this.now = now;
    this.config = config;
    this.effects = [];
  }
  get state() {
    return this.model.state;
  }
  /**
   * Moves to `state`; a transition is recorded unless the kind stays and
   * `reason` is empty. Leaving a live run ends its probes.
   */
  go(state, reason, patch = {}) {
    const from = this.model.state.kind;
    const transitions = state.kind === from && reason === "" ? this.model.transitions : [
      ...this.model.transitions,
      {
        from,
        to: state.kind,
        at: this.now,
        reason
      }
    ].slice(-HISTORY);
    this.model = {
      ...this.model,
      ...patch,
      state,
      transitions
    };
    if (!live(state.kind) && state.kind !== "stopping" && this.model.health.status !== "unknown") {
      const health = {
        ...this.model.health,
        status: "unknown",
        failures: 0
      };
      this.model = {
        ...this.model,
        health
      };
    }
    if (this.config.health && live(from) && !live(state.kind)) {
      this.effects.push({
        kind: "cancel_timer",
        timer: "probe"
      }, {
        kind: "cancel_timer",
        timer: "ready"
      });
    }
  }
  /** A spawn: `starting` with no pid yet; `auto` when the restart policy asks for it. */
  spawn(reason, patch = {}, auto = false) {
    const state = {
      kind: "starting",
      pid: null,
      since: this.now
    };
    this.go(auto ? {
      ...state,
      auto
    } : state, reason, patch);
    this.effects.push({
      kind: "spawn"
    });
  }
  /**
   * The process exists: `running` at once without health checks; with them,
   * `starting` until a probe passes, probed soon and often, and failed if the
   * start period ends first.
   */
  spawned(pid) {
    const health = this.config.health;
    if (!health) {
      this.go({
        kind: "running",
        pid,
        since: this.now
      }, `spawned pid ${pid}`);
      return;
    }
    this.go({
      kind: "starting",
      pid,
      since: this.now
    }, `spawned pid ${pid}; waiting until it answers`, {
      health: UNKNOWN_HEALTH
    });
    this.effects.push({
      kind: "set_timer",
      timer: "probe",
      at: this.now + READY_PROBE_FIRST_MS
    }, {
      kind: "set_timer",
      timer: "ready",
      at: this.now + health.startPeriodMs
    });
  }
  fail(reason, cause, patch = {}) {
    this.go({
      kind: "failed",
      reason,
      cause
    }, reason, {
      ...patch,
      lastError: reason
    });
  }
  /** SIGTERM to the group, SIGKILL at the end of the grace (a `kill` timer). */
  terminate(pid, plan) {
    const deadline = this.now + this.config.graceMs;
    this.go({
      kind: "stopping",
      pid,
      since: this.now,
      ranSince: plan.ranSince,
      phase: "term",
      deadline,
      then: plan.then,
      exit: plan.exit ?? null,
      failure: plan.failure ?? null
    }, plan.reason, plan.patch);
    this.effects.push({
      kind: "signal_group",
      pgid: pid,
      signal: "SIGTERM"
    }, {
      kind: "set_timer",
      timer: "kill",
      at: deadline
    });
  }
  /** The group is gone: do what the stop was for. */
  finishStop(s, exit) {
    this.effects.push({
      kind: "cancel_timer",
      timer: "kill"
    });
    const how = describeExit(exit);
    const patch = {
      lastExit: exit
    };
    switch (s.then) {
      case "stop":
        this.go({
          kind: "stopped"
        }, how, patch);
        break;
      case "start":
        this.spawn(`${how}; starting again`, patch);
        break;
      case "exit":
        this.go({
          kind: "stopped"
        }, how, patch);
        this.effects.push({
          kind: "exit"
        });
        break;
      case "policy":
        this.model = {
          ...this.model,
          ...patch
        };
        this.applyPolicy(exit, {
          ranSince: s.ranSince,
          failure: s.failure
        });
        break;
      default:
        unreachable(s.then);
    }
  }
  /**
   * After a run ended on its own (or was ended as a failure): stopped,
   * restarting or failed. A `failure` counts as a failed exit whatever the code.
   */
  applyPolicy(exit, run) {
    const how = run.failure ?? describeExit(exit);
    const { restart } = this.config;
    const clean2 = !run.failure && exit.code === 0 && exit.signal === null;
    if (restart.policy === "never" || restart.policy === "on-failure" && clean2) {
      this.go({
        kind: "stopped"
      }, `${how} (policy ${restart.policy})`, {
        ...run.failure ? {
          lastError: run.failure
        } : {}
      });
      return;
    }
    const attempt = exit.at - run.ranSince >= restart.resetAfterMs ? 0 : this.model.attempt;
    const admitted = admitRestart(this.model.window, {
      now: this.now,
      max: restart.maxRetriesPerMinute
    });
    if (!admitted.allowed) {
      const reason = `${how}; ${admitted.window.length} restarts within 60s (max-retries-per-minute ${restart.maxRetriesPerMinute})`;
      this.fail(reason, "crash_loop", {
        window: admitted.window,
        attempt
      });
      return;
    }
    const delay = backoffDelay(attempt, {
      initialMs: restart.backoffInitialMs,
      maxMs: restart.backoffMaxMs
    });
    const until = this.now + delay;
    this.go({
      kind: "restarting",
      attempt: attempt + 1,
      until
    }, `${how}; restarting in ${delay}ms`, {
      window: admitted.window,
      attempt: attempt + 1,
      restartCount: this.model.restartCount + 1,
      lastError: how
    });
    this.effects.push({
      kind: "set_timer",
      timer: "backoff",
      at: until
    });
  }
};

// lib/supervisor/machine.ts
function step(model, event, now, config) {
  const tx = new Tx(model, now, config);
  switch (event.kind) {
    case "start":
    case "restart":
      onStart(tx, event.kind);
      break;
    case "stop":
      onStop(tx);
      break;
    case "shutdown":
      onShutdown(tx);
      break;
    case "spawned":
      onSpawned(tx, event.pid);
      break;
    case "spawn_failed": {
      const s = tx.state;
      if (s.kind !== "starting" || s.pid !== null) break;
      if (event.cause === "port_conflict" && s.auto) {
        const exit = {
          code: null,
          signal: null,
          at: tx.now
        };
        tx.applyPolicy(exit, {
          ranSince: tx.now,
          failure: event.reason
        });
      } else tx.fail(event.reason, event.cause);
      break;
    }
    case "exited":
      onExited(tx, event);
      break;
    case "group_gone": {
      const s = tx.state;
      if (s.kind === "stopping" && s.pid === event.pid && s.exit) tx.finishStop(s, s.exit);
      break;
    }
    case "timer":
      switch (event.timer) {
        case "backoff":
          onBackoffTimer(tx);
          break;
        case "kill":
          onKillTimer(tx);
          break;
        case "probe":
          onProbeTimer(tx);
          break;
        case "ready":
          onReadyTimer(tx);
          break;
        default:
          unreachable(event.timer);
      }
      break;
    case "probed":
      onProbed(tx, event.pid, event.result);
      break;
    case "resume":
      if (tx.state.kind !== "stopped") break;
      tx.go({
        kind: "restarting",
        attempt: 1,
        until: event.until
      }, "supervisor replaced; restart goes ahead as planned", {
        restartCount: event.restartCount
      });
      tx.effects.push({
        kind: "set_timer",
        timer: "backoff",
        at: event.until
      });
      break;
    default:
      unreachable(event);
  }
  return {
    model: tx.model,
    effects: tx.effects
  };
}
var FRESH = {
  window: [],
  attempt: 0,
  lastError: null
};
function onStart(tx, kind) {
  const s = tx.state;
  const why = `${kind} requested`;
  switch (s.kind) {
    case "stopped":
    case "failed":
      tx.spawn(why, FRESH);
      break;
    case "restarting":
      tx.effects.push({
        kind: "cancel_timer",
        timer: "backoff"
      });
      tx.spawn(why, FRESH);
      break;
    case "starting":
    case "running":
      if (kind === "restart" && s.pid !== null) {
        tx.terminate(s.pid, {
          ranSince: s.since,
          then: "start",
          reason: why,
          patch: FRESH
        });
      }
      break;
    case "stopping":
      if (s.then !== "exit") tx.go({
        ...s,
        then: "start"
      }, "", FRESH);
      break;
    default:
      unreachable(s);
  }
}
function onStop(tx) {
  const s = tx.state;
  switch (s.kind) {
    case "stopped":
      break;
    case "failed":
      tx.go({
        kind: "stopped"
      }, "stop requested");
      break;
    case "restarting":
      tx.effects.push({
        kind: "cancel_timer",
        timer: "backoff"
      });
      tx.go({
        kind: "stopped"
      }, "stop requested");
      break;
    case "starting":
    case "running":
      if (s.pid === null) tx.go({
        kind: "stopped"
      }, "stop requested");
      else tx.terminate(s.pid, {
        ranSince: s.since,
        then: "stop",
        reason: "stop requested"
      });
      break;
    case "stopping":
      if (s.then === "start" || s.then === "policy") tx.go({
        ...s,
        then: "stop"
      }, "");
      break;
    default:
      unreachable(s);
  }
}
function onShutdown(tx) {
  const s = tx.state;
  switch (s.kind) {
    case "stopped":
    case "failed":
      tx.effects.push({
        kind: "exit"
      });
      break;
    case "restarting":
      tx.effects.push({
        kind: "cancel_timer",
        timer: "backoff"
      });
      tx.go({
        kind: "stopped"
      }, "daemon shutdown");
      tx.effects.push({
        kind: "exit"
      });
      break;
    case "starting":
    case "running":
      if (s.pid !== null) {
        tx.terminate(s.pid, {
          ranSince: s.since,
          then: "exit",
          reason: "daemon shutdown"
        });
        break;
      }
      tx.go({
        kind: "stopped"
      }, "daemon shutdown");
      tx.effects.push({
        kind: "exit"
      });
      break;
    case "stopping":
      tx.go({
        ...s,
        then: "exit"
      }, "");
      break;
    default:
      unreachable(s);
  }
}
function onSpawned(tx, pid) {
  const s = tx.state;
  if (s.kind === "starting" && s.pid === null) {
    tx.spawned(pid);
  } else {
    tx.effects.push({
      kind: "signal_group",
      pgid: pid,
      signal: "SIGKILL"
    });
  }
}
function onExited(tx, ev) {
  const s = tx.state;
  const exit = {
    code: ev.code,
    signal: ev.signal,
    at: tx.now
  };
  if (s.kind === "stopping" && s.pid === ev.pid) {
    if (ev.groupAlive) tx.go({
      ...s,
      exit
    }, "", {
      lastExit: exit
    });
    else tx.finishStop(s, exit);
    return;
  }
  if (s.kind !== "running" && s.kind !== "starting" || s.pid !== ev.pid) return;
  if (!ev.groupAlive) {
    tx.model = {
      ...tx.model,
      lastExit: exit
    };
    tx.applyPolicy(exit, {
      ranSince: s.since
    });
    return;
  }
  tx.terminate(s.pid, {
    ranSince: s.since,
    then: "policy",
    reason: `${describeExit(exit)}; stopping what it left in its group`,
    patch: {
      lastExit: exit
    },
    exit
  });
}
function onBackoffTimer(tx) {
  const s = tx.state;
  if (s.kind !== "restarting") return;
  if (tx.now < s.until) tx.effects.push({
    kind: "set_timer",
    timer: "backoff",
    at: s.until
  });
  else tx.spawn("backoff elapsed", {}, true);
}
function onKillTimer(tx) {
  const s = tx.state;
  if (s.kind !== "stopping") return;
  if (tx.now < s.deadline) {
    tx.effects.push({
      kind: "set_timer",
      timer: "kill",
      at: s.deadline
    });
    return;
  }
  if (s.phase === "term") {
    const deadline = tx.now + KILL_WAIT_MS;
    tx.go({
      ...s,
      phase: "kill",
      deadline
    }, "");
    tx.effects.push({
      kind: "signal_group",
      pgid: s.pid,
      signal: "SIGKILL"
    }, {
      kind: "set_timer",
      timer: "kill",
      at: deadline
    });
    return;
  }
  const stuck = `process group ${s.pid} did not exit after SIGKILL`;
  tx.model = {
    ...tx.model,
    lastError: stuck
  };
  tx.finishStop(s, s.exit ?? {
    code: null,
    signal: "SIGKILL",
    at: tx.now
  });
}

// lib/supervisor/snapshot.ts
var STDERR_TAIL = 10;
function snapshotOf(name, model, logs) {
  const s = model.state;
  const since = s.kind === "running" || s.kind === "starting" || s.kind === "stopping" ? s.since : null;
  const showStderr = s.kind === "failed" || s.kind === "restarting";
  return {
    name,
    state: s.kind,
    pid: pidOf(s),
    since,
    restartCount: model.restartCount,
    lastExit: model.lastExit,
    lastError: model.lastError,
    failure: s.kind === "failed" ? s.cause : null,
    retryAt: s.kind === "restarting" ? s.until : null,
    transitions: model.transitions,
    stderrTail: showStderr ? logs.stderrTail(STDERR_TAIL) : [],
    logWriteErrors: logs.writeErrors,
    health: model.health
  };
}

// lib/supervisor/actor.ts
var Actor = class {
  #endpoint;
  #spawner;
  #clock;
  #portGuard;
  #prober;
  #config;
  #machine;
  #logs;
  /** Where spawns are recorded, and by which daemon; none in tests. */
  #records;
  #model = initialModel();
  #queue = Promise.resolve();
  #timers = /* @__PURE__ */ new Map();
  /** Timers due at once, in the mailbox: cancelling one takes its token away. */
  #due = /* @__PURE__ */ new Map();
  /** Lifecycle commands not answered yet. */
  #pending = [];
  /** Shutdown commands, answered by the `exit` effect. */
  #shutdowns = [];
  /** Set by the `exit` effect: the actor is done. */
  #exited = false;
  constructor(endpoint, ports = {}) {
    this.#endpoint = endpoint;
    this.#spawner = ports.spawner ?? denoSpawner;
    this.#clock = ports.clock ?? systemClock;
    this.#portGuard = ports.portGuard ?? tcpPortGuard;
    this.#prober = ports.prober ?? realProber;
    endpoint.onmessage = (ev) => this.#receive(ev.data);
  }
  #receive(msg) {
    switch (msg.type) {
      case "init":
        this.#config = msg.config;
        this.#records = msg.records;
        this.#machine = machineConfig(msg.config);
        this.#logs = new LogCapture({
          path: msg.logFile,
          maxSize: msg.config.logs.maxSizeBytes,
          keep: msg.config.logs.keep,
          clock: this.#clock,
          numberedBefore: msg.numberedBefore ?? 0,
          onFollowLines: (batch) => this.#post({
            type: "logs",
            batch
          }),
          onWriteErrors: () => this.#publish()
        });
        this.#publish();
        if (msg.resume) {
          const resume = msg.resume;
          this.#enqueue(() => this.#apply({
            kind: "resume",
            ...resume
          }));
        }
        break;
      case "command":
        this.#enqueue(() => this.#command(msg.id, msg.command));
        break;
      case "follow":
        this.#logs.follow(msg.on);
        break;
      case "logs_taken":
        this.#logs.taken();
        break;
    }
  }
  #enqueue(task) {
    this.#queue = this.#queue.then(task).catch((e) => {
      queueMicrotask(() => {
        throw e;
      });
    });
  }
  #post(msg) {
    this.#endpoint.postMessage(msg);
  }
  #reply(id, _kind, result) {
    this.#post({
      type: "reply",
      id,
      ok: true,
      result
    });
  }
  #fail(id, error) {
    this.#post({
      type: "reply",
      id,
      ok: false,
      error
    });
  }
  async #command(id, command) {
    const kind = this.#model.state.kind;
    if (this.#exited && command.kind !== "status" && command.kind !== "logs") {
      if (command.kind === "stop") return this.#reply(id, "stop", "not_running");
      if (command.kind === "shutdown") return this.#reply(id, "shutdown", "stopped");
      return this.#fail(id, {
        failure: "Internal",
        message: "its supervisor has shut down"
      });
    }
    switch (command.kind) {
      case "status":
        return this.#reply(id, "status", this.#snapshot());
      case "logs":
        return this.#reply(id, "logs", this.#logs.snapshot(command.tail, command.stream));
      case "start":
        if (kind === "running") return this.#reply(id, "start", "already_running");
        if (kind === "starting") return this.#reply(id, "start", "starting");
        return await this.#await(id, "start", "started");
      case "restart":
        return await this.#await(id, "restart", "restarted");
      case "stop":
        if (kind === "stopped") return this.#reply(id, "stop", "not_running");
        return await this.#await(id, "stop", "stopped");
      case "shutdown":
        this.#shutdowns.push(id);
        return await this.#apply({
          kind: "shutdown"
        });
    }
  }
  /** Feeds `command` to the machine; it is answered once {@link answer} knows how. */
  async #await(id, command, done) {
    this.#pending.push({
      id,
      command,
      done
    });
    await this.#apply({
      kind: command
    });
  }
  #settle() {
    this.#pending = this.#pending.filter((p) => {
      const a = answer(p.command, this.#model);
      if (a === void 0) return true;
      if ("error" in a) this.#fail(p.id, a.error);
      else this.#post({
        type: "reply",
        id: p.id,
        ok: true,
        result: p.done
      });
      return false;
    });
  }
  /** Feeds one event to the machine and carries out what it asks. */
  async #apply(event) {
    const before = this.#model;
    const { model, effects } = step(before, event, this.#clock.now(), this.#machine);
    this.#model = model;
    if (model !== before) this.#publish();
    for (const effect of effects) await this.#effect(effect);
    this.#settle();
  }
  async #effect(effect) {
    switch (effect.kind) {
      case "spawn":
        return await this.#spawn();
      case "signal_group":
        try {
          this.#spawner.signalGroup(effect.pgid, effect.signal);
        } catch {
        }
        return;
      case "set_timer": {
        this.#cancelTimer(effect.timer);
        const { timer } = effect;
        const ms = effect.at - this.#clock.now();
        if (ms <= 0) {
          const token = Symbol(timer);
          this.#due.set(timer, token);
          this.#enqueue(() => {
            if (this.#due.get(timer) !== token) return;
            this.#due.delete(timer);
            return this.#apply({
              kind: "timer",
              timer
            });
          });
          return;
        }
        const fire = () => {
          this.#timers.delete(timer);
          this.#enqueue(() => this.#apply({
            kind: "timer",
            timer
          }));
        };
        this.#timers.set(timer, this.#clock.setTimeout(fire, ms));
        return;
      }
      case "cancel_timer":
        return this.#cancelTimer(effect.timer);
      case "probe": {
        const { pid } = effect;
        const health = this.#config.health;
        this.#prober(health, this.#config.port).catch((e) => ({
          status: "failed",
          message: String(e),
          latencyMs: 0
        })).then((result) => this.#enqueue(() => this.#apply({
          kind: "probed",
          pid,
          result
        })));
        return;
      }
      case "exit":
        this.#exited = true;
        for (const timer of [
          ...this.#timers.keys(),
          ...this.#due.keys()
        ]) this.#cancelTimer(timer);
        this.#logs.close();
        for (const id of this.#shutdowns.splice(0)) this.#reply(id, "shutdown", "stopped");
        return;
    }
  }
  #cancelTimer(timer) {
    const id = this.#timers.get(timer);
    if (id !== void 0) this.#clock.clearTimeout(id);
    this.#timers.delete(timer);
    this.#due.delete(timer);
  }
  async #spawn() {
    const records = this.#records;
    const run = await launch(this.#config, {
      spawner: this.#spawner,
      portGuard: this.#portGuard,
      graceMs: this.#machine.graceMs,
      ...records ? {
        records
      } : {}
    });
    if ("reason" in run) return await this.#apply({
      kind: "spawn_failed",
      ...run
    });
    const { child, record, recorded } = run;
    const { pid } = child;
    const ended = () => {
      if (records) recorded.then(() => this.#post({
        type: "ended",
        record
      }));
    };
    watchChild(child, {
      spawner: this.#spawner,
      logs: this.#logs,
      clock: this.#clock,
      groupTimeoutMs: this.#machine.graceMs + KILL_WAIT_MS + 1e3,
      onExit: (exit) => {
        if (!exit.groupAlive) ended();
        this.#enqueue(() => this.#apply({
          kind: "exited",
          pid,
          ...exit
        }));
      },
      onGroupGone: () => {
        ended();
        this.#enqueue(() => this.#apply({
          kind: "group_gone",
          pid
        }));
      }
    });
    await this.#apply({
      kind: "spawned",
      pid
    });
  }
  #snapshot() {
    return snapshotOf(this.#config.name, this.#model, this.#logs);
  }
  #publish() {
    this.#post({
      type: "status",
      snapshot: this.#snapshot()
    });
  }
};

// lib/supervisor/worker.ts
new Actor(self);
warmUp();
function warmUp() {
  void Deno.Command;
  timers.set(() => {
  }, 0);
}
