/**
 * `xy top` (SPEC §13): every server live, full screen, refreshed every
 * second, with keys to follow a log, restart, stop and start. The drawing is
 * top_screen.ts's (pure); this file owns the terminal — the alternate screen,
 * the cursor, raw mode — and gives it back as it found it however it ends:
 * `q`, Ctrl-C, a signal, or the daemon going away (which it says, and waits
 * for).
 */
import { connectDaemon, type DaemonClient } from "../daemon/client.ts";
import { errorMessage } from "../error_message.ts";
import { ExitCode } from "../protocol/failures.ts";
import type { ServerSummary } from "../protocol/types.ts";
import { type Timer, timers } from "../timers.ts";
import type { Context } from "./command.ts";
import { selectedIndex, topScreen, type TopState } from "./top_screen.ts";
import { UsageError } from "./usage_error.ts";

/** How often the list is asked again. */
const REFRESH_MS = 1_000;
/** How many lines of a followed log are kept. */
const LOG_LINES = 500;

const encoder = new TextEncoder();

/** Runs `xy top` until `q`; the exit code. */
export async function top(ctx: Context): Promise<number> {
  if (!Deno.stdin.isTerminal() || !Deno.stdout.isTerminal()) {
    throw new UsageError("top: needs a terminal (for a listing, xy list)");
  }
  const ui = new Top(ctx);
  return await ui.run();
}

class Top {
  readonly #ctx: Context;
  #state: TopState = { rows: [], selected: null, view: "list", logLines: [], message: null };
  #client: DaemonClient | null = null;
  #logs: DaemonClient | null = null;
  #timer: Timer | undefined;
  readonly #done = Promise.withResolvers<number>();
  #messageUntil = 0;
  /** Set on the way out: no refresh is due any more. */
  #closing = false;

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  async run(): Promise<number> {
    const restore = this.#enter();
    const stop = () => this.#done.resolve(ExitCode.Ok);
    const resize = () => this.#draw();
    const signals: [Deno.Signal, () => void][] = [
      ["SIGINT", stop],
      ["SIGTERM", stop],
      ["SIGHUP", stop],
      ["SIGWINCH", resize],
    ];
    for (const [s, f] of signals) Deno.addSignalListener(s, f);
    const keys = this.#readKeys();
    try {
      await this.#refresh();
      return await this.#done.promise;
    } finally {
      this.#closing = true;
      timers.clear(this.#timer);
      for (const [s, f] of signals) Deno.removeSignalListener(s, f);
      await keys;
      await this.#logs?.close();
      await this.#client?.close();
      restore();
    }
  }

  /** The alternate screen, no cursor, raw keys; the function that undoes it all. */
  #enter(): () => void {
    Deno.stdin.setRaw(true);
    this.#write("\x1b[?1049h\x1b[?25l");
    return () => {
      this.#write("\x1b[?25h\x1b[?1049l");
      try {
        Deno.stdin.setRaw(false);
      } catch {
        // The terminal is gone.
      }
    };
  }

  #write(text: string) {
    try {
      Deno.stdout.writeSync(encoder.encode(text));
    } catch {
      // The terminal is gone: nothing to draw on.
    }
  }

  #draw() {
    const { columns, rows } = Deno.consoleSize();
    const style = { color: this.#ctx.io.env("NO_COLOR") === undefined };
    const lines = topScreen(this.#state, { columns, rows }, style);
    this.#write(`\x1b[H${lines.join("\x1b[K\r\n")}\x1b[K\x1b[J`);
  }

  #say(message: string) {
    this.#state = { ...this.#state, message };
    this.#messageUntil = Date.now() + 3_000;
    this.#draw();
  }

  /** The list again, then again in a second; a daemon gone is said, and looked for again. */
  async #refresh() {
    if (this.#closing) return;
    try {
      this.#client ??= await this.#connect();
      const rows = await this.#client.call("list");
      const keep = this.#state.selected ?? rows[0]?.name ?? null;
      const message = Date.now() < this.#messageUntil ? this.#state.message : null;
      this.#state = { ...this.#state, rows, selected: keep, message };
    } catch (e) {
      await this.#client?.close().catch(() => {});
      this.#client = null;
      this.#reconnect = true;
      this.#state = {
        ...this.#state,
        message: `the daemon does not answer (${errorMessage(e)}); trying again — q quits`,
      };
      this.#messageUntil = Date.now() + REFRESH_MS * 2;
    }
    if (this.#closing) return;
    this.#draw();
    this.#timer = timers.set(() => void this.#refresh(), REFRESH_MS);
  }

  /** Set once the first connection was lost: later ones are made directly, never starting a daemon. */
  #reconnect = false;

  async #connect(): Promise<DaemonClient> {
    return this.#reconnect ? await connectDaemon(this.#ctx.paths.socket) : await this.#ctx.client();
  }

  /** Keys, until the way out; a chunk may hold several (a key held down). */
  async #readKeys() {
    const reader = Deno.stdin.readable.getReader();
    this.#done.promise.then(() => reader.cancel().catch(() => {}));
    const decoder = new TextDecoder();
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done || !value) break;
        for (const key of splitKeys(decoder.decode(value))) await this.#key(key);
      }
    } catch {
      // Cancelled on the way out.
    } finally {
      reader.releaseLock();
    }
    this.#done.resolve(ExitCode.Ok);
  }

  async #key(key: string) {
    const s = this.#state;
    const index = selectedIndex(s);
    const move = (by: number) => {
      const next = s.rows[Math.min(Math.max(0, index + by), s.rows.length - 1)];
      if (next) this.#state = { ...s, selected: next.name };
      this.#draw();
    };
    switch (key) {
      case "q":
      case "\x03": // Ctrl-C, in raw mode.
        return this.#done.resolve(ExitCode.Ok);
      case "\x1b[A":
      case "\x1bOA":
      case "k":
        return s.view === "list" ? move(-1) : undefined;
      case "\x1b[B":
      case "\x1bOB":
      case "j":
        return s.view === "list" ? move(1) : undefined;
      case "l":
      case "\r":
      case "\n":
        return s.view === "list" ? await this.#follow() : undefined;
      case "\x1b":
        return s.view === "logs" ? await this.#unfollow() : undefined;
      case "r":
        return await this.#act("restart");
      case "s":
        return await this.#act(isUp(s.rows[index]) ? "stop" : "start");
    }
  }

  /** Restarts, stops or starts the selected server; says what came of it. */
  async #act(kind: "restart" | "stop" | "start") {
    const row = this.#state.rows[selectedIndex(this.#state)];
    if (!row) return;
    this.#say(`${kind} ${row.name}…`);
    try {
      this.#client ??= await this.#connect();
      await this.#client.call(kind, { name: row.name });
      this.#say(`${kind === "stop" ? "stopped" : `${kind}ed`} ${row.name}`);
    } catch (e) {
      this.#say(`${kind} ${row.name}: ${errorMessage(e)}`);
    }
  }

  /** The selected server's log: its last lines, then new ones as they come (a connection of its own). */
  async #follow() {
    const row = this.#state.rows[selectedIndex(this.#state)];
    if (!row || row.state === "invalid") return;
    this.#state = { ...this.#state, view: "logs", logLines: [] };
    this.#draw();
    try {
      const logs = await connectDaemon(this.#ctx.paths.socket);
      this.#logs = logs;
      let pending: Timer | undefined;
      logs.onNotification((n) => {
        if (n.method !== "log" || this.#logs !== logs) return;
        const lines = [...this.#state.logLines, n.params.line].slice(-LOG_LINES);
        this.#state = { ...this.#state, logLines: lines };
        // Drawn at most every 50 ms: a flood must not flood the terminal.
        pending ??= timers.set(() => {
          pending = undefined;
          this.#draw();
        }, 50);
      });
      await logs.call("logs", { name: row.name, tail: LOG_LINES, follow: true });
    } catch (e) {
      this.#say(`log of ${row.name}: ${errorMessage(e)}`);
    }
  }

  async #unfollow() {
    const logs = this.#logs;
    this.#logs = null;
    this.#state = { ...this.#state, view: "list", logLines: [] };
    this.#draw();
    await logs?.close();
  }
}

function isUp(r: ServerSummary | undefined): boolean {
  return r !== undefined && ["running", "starting", "restarting", "blocked"].includes(r.state);
}

/** The keys of a chunk of raw input: escape sequences (arrows) whole, the rest a character each. */
export function splitKeys(chunk: string): string[] {
  const keys: string[] = [];
  for (let i = 0; i < chunk.length;) {
    // deno-lint-ignore no-control-regex -- an escape sequence begins with ESC.
    const seq = /^\x1b[[O][0-9;]*[A-Za-z~]/.exec(chunk.slice(i));
    const key = seq ? seq[0] : String.fromCodePoint(chunk.codePointAt(i)!);
    keys.push(key);
    i += key.length;
  }
  return keys;
}
