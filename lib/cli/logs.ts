/** `xy logs`: print the snapshot, then follow. */
import { ExitCode } from "../errors.ts";
import type { RpcClient } from "../rpc/client.ts";
import type { Command } from "./args.ts";
import type { Io } from "./run.ts";

/** `xy logs`: the snapshot, then (with -f) live lines until Ctrl-C or the daemon goes away. */
export async function logs(
  client: RpcClient,
  cmd: Extract<Command, { kind: "logs" }>,
  io: Io,
): Promise<number> {
  let buffer: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (buffer.length) io.out(buffer.join(""));
    buffer = [];
  };
  let ended!: () => void;
  const end = new Promise<void>((r) => ended = r);
  // Set once the response arrives; until then every notification is ours (one subscription per connection).
  const sub: { id?: string } = {};
  client.onNotification((method, params) => {
    const p = params as {
      subscription_id: string;
      line: string;
      ts_unix_ms: number;
      count: number;
    };
    if (sub.id !== undefined && p.subscription_id !== sub.id) return;
    if (method === "log") {
      buffer.push(
        cmd.timestamps ? `${new Date(p.ts_unix_ms).toISOString()} ${p.line}\n` : `${p.line}\n`,
      );
      if (buffer.length >= 1024) flush();
      else timer ??= setTimeout(flush, 10);
    } else if (method === "log_dropped") {
      flush();
      io.err(`xy: ${p.count} lines dropped: this terminal did not keep up\n`);
    } else if (method === "log_end") {
      ended();
    }
  });
  const result = await client.call<{ subscription_id: string }>("logs", {
    name: cmd.name,
    follow: cmd.follow,
    ...(cmd.tail === undefined ? {} : { tail: cmd.tail }),
    ...(cmd.stream ? { stream: cmd.stream } : {}),
  });
  sub.id = result.subscription_id;
  if (!cmd.follow) {
    await Promise.race([end, client.closed]);
    flush();
    return ExitCode.Ok;
  }
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    client.close();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    await client.closed;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  flush();
  if (interrupted) return ExitCode.Ok;
  io.err("xy: the daemon went away\n");
  return ExitCode.Unreachable;
}
