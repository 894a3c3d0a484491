/** `xy logs`: print the tail, then follow. */
import type { DaemonClient } from "../daemon/client.ts";
import { type Timer, timers } from "../timers.ts";
import { ExitCode } from "../protocol/failures.ts";
import type { Notifications, WireStream } from "../protocol/types.ts";
import type { Io } from "./io.ts";

/** A parsed `xy logs`. */
export interface LogsCommand {
  readonly name: string;
  readonly tail?: number;
  readonly follow: boolean;
  readonly stream?: WireStream;
  readonly timestamps: boolean;
}

/** `xy logs`: the tail, then (with -f) live lines until Ctrl-C or the daemon goes away. */
export async function logs(client: DaemonClient, cmd: LogsCommand, io: Io): Promise<number> {
  let buffer: string[] = [];
  let timer: Timer | undefined;
  const flush = () => {
    timers.clear(timer);
    timer = undefined;
    if (buffer.length) io.out(buffer.join(""));
    buffer = [];
  };
  const end = Promise.withResolvers<Notifications["log_end"]>();
  // Set once the response arrives; until then every notification is ours (one subscription per connection).
  const sub: { id?: string } = {};
  client.onNotification((n) => {
    if (sub.id !== undefined && n.params.subscription_id !== sub.id) return;
    switch (n.method) {
      case "log": {
        const p = n.params;
        buffer.push(
          cmd.timestamps ? `${new Date(p.ts_unix_ms).toISOString()} ${p.line}\n` : `${p.line}\n`,
        );
        if (buffer.length >= 1024) flush();
        else timer ??= timers.set(flush, 10);
        break;
      }
      case "log_dropped":
        flush();
        io.err(
          `xy: ${n.params.count} lines not shown: xy logs fell behind (the log file has them)\n`,
        );
        break;
      case "log_end":
        end.resolve(n.params);
        break;
    }
  });
  const result = await client.call("logs", {
    name: cmd.name,
    follow: cmd.follow,
    ...(cmd.tail === undefined ? {} : { tail: cmd.tail }),
    ...(cmd.stream ? { stream: cmd.stream } : {}),
  });
  sub.id = result.subscription_id;
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    client.close();
  };
  if (cmd.follow) {
    Deno.addSignalListener("SIGINT", onSignal);
    Deno.addSignalListener("SIGTERM", onSignal);
  }
  let last: Notifications["log_end"] | "closed";
  try {
    last = await Promise.race([end.promise, client.closed.then(() => "closed" as const)]);
  } finally {
    if (cmd.follow) {
      Deno.removeSignalListener("SIGINT", onSignal);
      Deno.removeSignalListener("SIGTERM", onSignal);
    }
  }
  flush();
  if (interrupted) return ExitCode.Ok;
  if (last === "closed") {
    // Whatever was printed is not the whole answer: say so, never exit 0.
    io.err(
      cmd.follow
        ? "xy: the daemon went away\n"
        : "xy: the daemon closed the connection before the end of the logs\n",
    );
    return cmd.follow ? ExitCode.Unreachable : ExitCode.Error;
  }
  const why = last.error ?? last.reason;
  if (why === undefined) return ExitCode.Ok;
  io.err(`xy: ${cmd.name}: ${why}\n`);
  return ExitCode.Error;
}
