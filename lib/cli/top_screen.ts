/**
 * What `xy top` shows, pure: a state and a terminal size in, the screen's
 * lines out (each at most the width, as many as the height). The controller
 * (top.ts) draws them; tests read them.
 */
import type { ServerSummary } from "../protocol/types.ts";
import { cpuCell, formatSecs, healthCell, memCell, STATE_COLORS, type Style } from "./format.ts";

/** What `xy top` is showing. */
export interface TopState {
  readonly rows: readonly ServerSummary[];
  /** The selected server's name (kept across refreshes, whatever the order). */
  readonly selected: string | null;
  /** The list, or the selected server's log. */
  readonly view: "list" | "logs";
  /** The log lines of the server followed, newest last. */
  readonly logLines: readonly string[];
  /** A line at the bottom: what was done, or what went wrong. */
  readonly message: string | null;
}

/** The keys, for the bottom line. */
const LIST_KEYS = "↑↓/jk select  l/Enter log  r restart  s stop/start  q quit";
const LOG_KEYS = "Esc back  r restart  s stop/start  q quit";

/** `text` cut or padded to exactly `width` characters. */
function fit(text: string, width: number): string {
  const chars = [...text];
  return chars.length > width
    ? chars.slice(0, Math.max(0, width - 1)).join("") + (width > 0 ? "…" : "")
    : text + " ".repeat(width - chars.length);
}

function uptime(r: ServerSummary): string {
  return r.uptime_secs === undefined ? "-" : formatSecs(r.uptime_secs);
}

/** The index of the selected server in `rows`; the first when it is gone. */
export function selectedIndex(state: TopState): number {
  const i = state.rows.findIndex((r) => r.name === state.selected);
  return i < 0 ? 0 : i;
}

/** The screen of `state` at `size`: exactly `size.rows` lines, none wider than `size.columns`. */
export function topScreen(
  state: TopState,
  size: { readonly columns: number; readonly rows: number },
  style: Style,
): string[] {
  const width = Math.max(20, size.columns);
  const height = Math.max(5, size.rows);
  const paint = (code: number | undefined, text: string) =>
    style.color && code ? `\x1b[${code}m${text}\x1b[0m` : text;
  const lines: string[] = [];
  const running = state.rows.filter((r) => r.state === "running").length;
  const sel = state.rows[selectedIndex(state)];
  const body = height - 3;
  if (state.view === "logs" && sel) {
    lines.push(paint(1, fit(`xy top — ${sel.name}: ${sel.state}, its log`, width)));
    lines.push(fit("", width));
    const shown = state.logLines.slice(-body);
    for (let i = 0; i < body; i++) lines.push(fit(shown[i] ?? "", width));
  } else {
    lines.push(
      paint(
        1,
        fit(`xy top — ${state.rows.length} servers, ${running} running`, width),
      ),
    );
    // Fixed columns, and the name gets the rest.
    const cols = [
      ["STATE", 10],
      ["HEALTH", 13],
      ["CPU", 7],
      ["MEM", 7],
      ["RESTARTS", 8],
      ["UPTIME", 9],
    ] as const;
    const fixed = cols.reduce((n, [, w]) => n + w + 1, 0);
    const nameWidth = Math.max(6, width - fixed - 2);
    const row = (mark: string, name: string, cells: readonly string[]) =>
      fit(
        `${mark}${fit(name, nameWidth)} ${cells.map((c, i) => fit(c, cols[i]![1])).join(" ")}`,
        width,
      );
    lines.push(row("  ", "NAME", cols.map(([h]) => h)));
    const index = selectedIndex(state);
    // A window of the list that holds the selected row.
    const first = Math.min(Math.max(0, index - body + 1), Math.max(0, state.rows.length - body));
    const top = Math.max(0, Math.min(first, index));
    for (let i = 0; i < body; i++) {
      const r = state.rows[top + i];
      if (!r) {
        lines.push(fit("", width));
        continue;
      }
      const selected = top + i === index;
      const text = row(selected ? "> " : "  ", r.name, [
        r.state,
        healthCell(r),
        cpuCell(r),
        memCell(r),
        String(r.restart_count),
        uptime(r),
      ]);
      lines.push(
        selected && style.color ? `\x1b[7m${text}\x1b[0m` : paint(STATE_COLORS[r.state], text),
      );
    }
    if (state.rows.length === 0) lines[2] = fit("  no servers configured", width);
  }
  lines.push(fit(state.message ?? (state.view === "logs" ? LOG_KEYS : LIST_KEYS), width));
  return lines;
}
