/** Reading a server's log lines back from its files, for a tail longer than the ring. */
import type { LogLine, Stream } from "./ring.ts";
import { rotatedNames } from "./log_file.ts";

const LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) \[(out|err)\] (.*)$/;

/** Parses one file line; undefined for a line that is not in xy's format. */
export function parseFileLine(text: string): LogLine | undefined {
  const m = LINE.exec(text);
  if (!m) return undefined;
  return { ts: Date.parse(m[1]!), stream: m[2] === "out" ? "stdout" : "stderr", line: m[3]! };
}

/** The last `n` lines (of `stream`, when given) across `path` and its rotated files, oldest first. */
export function tailFromFiles(
  path: string,
  opts: { n: number; keep: number; stream?: Stream },
): LogLine[] {
  const out: LogLine[] = [];
  for (const file of [path, ...rotatedNames(path, opts.keep)]) {
    if (out.length >= opts.n) break;
    let text: string;
    try {
      text = Deno.readTextFileSync(file);
    } catch {
      continue;
    }
    const lines = text.split("\n");
    for (let i = lines.length - 1; i >= 0 && out.length < opts.n; i--) {
      const parsed = parseFileLine(lines[i]!);
      if (parsed && (!opts.stream || parsed.stream === opts.stream)) out.push(parsed);
    }
  }
  return out.reverse();
}
