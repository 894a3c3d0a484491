/** The daemon's own structured log: one line per event, `key=value` fields. */

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
