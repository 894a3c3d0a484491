/**
 * A stdio child's JSON-RPC channel: newline-delimited messages on its stdin
 * and stdout (MCP's stdio transport). A line may be of any length, and a
 * character may be split across two reads; a stdout line that is not a
 * JSON-RPC message (a banner, a stray print) is handed on as text, for the
 * server's log, and is otherwise ignored.
 */
import { type ChunkReader, chunkReader } from "../logs/chunk_reader.ts";
import { asMessage, type RpcMessage } from "./jsonrpc.ts";

/** What a channel hands on: each message, and each line that is not one. */
export interface ChannelHandlers {
  message(m: RpcMessage): void;
  text(line: string): void;
}

const encoder = new TextEncoder();

/** Splits text read in chunks into lines, whatever their length; a line's `\r` end is dropped. */
export class LineSplitter {
  #carry = "";
  readonly #decoder = new TextDecoder();

  /** The lines `chunk` completes. */
  push(chunk: Uint8Array): string[] {
    const text = this.#carry + this.#decoder.decode(chunk, { stream: true });
    const lines = text.split("\n");
    this.#carry = lines.pop()!;
    return lines.map((l) => l.endsWith("\r") ? l.slice(0, -1) : l);
  }

  /** The last line, when the stream ended without a newline. */
  end(): string | null {
    const last = this.#carry + this.#decoder.decode();
    this.#carry = "";
    return last === "" ? null : last;
  }
}

/** One child's stdin and stdout as a message channel. */
export class ChildChannel {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: ChunkReader;
  #open = true;
  /** Resolves once the child's stdout ended (it exited, or closed it). */
  readonly done: Promise<void>;

  constructor(
    stdin: WritableStream<Uint8Array>,
    stdout: ReadableStream<Uint8Array>,
    handlers: ChannelHandlers,
  ) {
    this.#writer = stdin.getWriter();
    this.#writer.closed.catch(() => this.#open = false);
    this.#reader = chunkReader(stdout);
    this.done = this.#read(handlers);
  }

  /** Sends `m` as one line; quietly nothing once the child's stdin is gone. */
  send(m: RpcMessage): void {
    if (!this.#open) return;
    this.#writer.write(encoder.encode(JSON.stringify(m) + "\n")).catch(() => this.#open = false);
  }

  /** Closes the child's stdin: the first step of stopping a stdio server (MCP's stdio transport). */
  async closeInput(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    await this.#writer.close().catch(() => {});
  }

  /** Stops reading the child's stdout (a process outside its group may hold it open). */
  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
    await this.done;
  }

  async #read(h: ChannelHandlers) {
    const reader = this.#reader;
    const lines = new LineSplitter();
    const take = (line: string) => {
      if (line.trim() === "") return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        return h.text(line);
      }
      const m = asMessage(parsed);
      if (m) h.message(m);
      else h.text(line);
    };
    try {
      while (true) {
        const chunk = await reader.read();
        if (chunk === null) break;
        for (const line of lines.push(chunk)) take(line);
      }
    } catch {
      // The pipe broke: what was read is handed on.
    }
    const last = lines.end();
    if (last !== null) take(last);
  }
}
