/**
 * The one logger signature: a level, a message and `key=value` fields. The
 * daemon writes its log through one (daemon/log.ts); the layers below it take
 * one in their options, and log nothing on their own.
 */

/** A log level. */
export type Level = "debug" | "info" | "warn" | "error";

/** Writes one structured line. */
export type Logger = (level: Level, msg: string, fields?: Record<string, unknown>) => void;
