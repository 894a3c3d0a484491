/** The daemon's own structured log: one line per event, `key=value` fields. */
import type { Logger } from "../logger.ts";
import { RotatingFile } from "../logs/rotating_file.ts";

export type { Level, Logger } from "../logger.ts";

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
export const DAEMON_LOG = { maxSize: 10 * 1024 * 1024, keep: 3 } as const;

/**
 * The daemon log file at `path`: appended to, and rotated (rotating_file.ts)
 * so a daemon that runs for months does not fill the disk. A line that
 * cannot be written is dropped: there is nowhere left to report it.
 */
export function daemonLogFile(
  path: string,
  opts: { readonly maxSize: number; readonly keep: number } = DAEMON_LOG,
): { writeSync(p: Uint8Array): number; close(): void } {
  const file = new RotatingFile(path, opts);
  return {
    writeSync: (p) => {
      file.write(p);
      return p.length;
    },
    close: () => file.close(),
  };
}
