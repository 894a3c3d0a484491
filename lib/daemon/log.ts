/** The daemon's own structured log: one line per event, `key=value` fields. */
import { rotatedNames } from "../logs/log_file.ts";

/** A log level. */
export type Level = "debug" | "info" | "warn" | "error";

/** Writes structured lines. */
export interface Logger {
  (level: Level, msg: string, fields?: Record<string, unknown>): void;
}

const encoder = new TextEncoder();

/** A logger that writes lines to `sink` (stderr or the daemon log file). */
export function createLogger(sink: { writeSync(p: Uint8Array): number }): Logger {
  return (level, msg, fields = {}) => {
    let line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}`;
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      const text = typeof v === "string" ? v : JSON.stringify(v);
      line += ` ${k}=${/[\s"=]/.test(text) || text === "" ? JSON.stringify(text) : text}`;
    }
    const bytes = encoder.encode(line + "\n");
    try {
      let off = 0;
      while (off < bytes.length) off += sink.writeSync(bytes.subarray(off));
    } catch {
      // Nowhere left to report it.
    }
  };
}

/** The daemon log's size limit and how many rotated files it keeps. */
export const DAEMON_LOG = { maxBytes: 10 * 1024 * 1024, keep: 3 } as const;

/**
 * The daemon log file: appended to, and renamed to `.1` (older ones to `.2`
 * … `.keep`) once it passes `maxBytes`, so a daemon that runs for months does
 * not fill the disk.
 */
export class RotatingLog {
  #file: Deno.FsFile;
  #size: number;

  private constructor(
    readonly path: string,
    readonly opts: { readonly maxBytes: number; readonly keep: number },
  ) {
    this.#file = Deno.openSync(path, { create: true, append: true, mode: 0o600 });
    this.#size = this.#file.statSync().size;
  }

  /** Opens (or creates) the log at `path`. */
  static open(
    path: string,
    opts: { readonly maxBytes: number; readonly keep: number } = DAEMON_LOG,
  ): RotatingLog {
    return new RotatingLog(path, opts);
  }

  /** Appends `p` whole, then rotates if the file grew past the limit. */
  writeSync(p: Uint8Array): number {
    let off = 0;
    while (off < p.length) off += this.#file.writeSync(p.subarray(off));
    this.#size += p.length;
    if (this.#size > this.opts.maxBytes) this.#rotate();
    return p.length;
  }

  close(): void {
    this.#file.close();
  }

  #rotate() {
    this.#file.close();
    const names = [this.path, ...rotatedNames(this.path, this.opts.keep)];
    for (let i = names.length - 1; i > 0; i--) {
      try {
        Deno.renameSync(names[i - 1]!, names[i]!);
      } catch {
        // A missing older file is no reason to stop logging.
      }
    }
    if (this.opts.keep === 0) Deno.truncateSync(this.path, 0);
    this.#file = Deno.openSync(this.path, { create: true, append: true, mode: 0o600 });
    this.#size = this.#file.statSync().size;
  }
}
