/**
 * Server-sent events, as MCP servers send them: `event:` and `data:` lines,
 * events ended by a blank line, several `data:` lines joined with `\n`,
 * comments (`:`) ignored. Incremental, so a probe can stop reading as soon as
 * the answer it waits for has arrived.
 */

/** One event. `event` is "message" when the server named none. */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
  readonly id?: string;
}

/** Splits a stream of text into events; `push` returns the events it completed. */
export class SseParser {
  #buffer = "";
  #event = "";
  #data: string[] = [];
  #id: string | undefined;

  push(text: string): SseEvent[] {
    this.#buffer += text;
    const out: SseEvent[] = [];
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
            ...(this.#id === undefined ? {} : { id: this.#id }),
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
}

/** Every event of a complete text. */
export function parseSse(text: string): SseEvent[] {
  return new SseParser().push(text.endsWith("\n\n") ? text : `${text}\n\n`);
}
