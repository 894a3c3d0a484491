// deno-lint-ignore-file no-console -- the benchmark's table is its output
/**
 * `deno task bench [figure…] [--isolation worker|inline|both] [--runs N]`:
 * xy's speed and memory, measured on real daemons and real children in temp
 * dirs, each figure at least `--runs` times (default 5), printed as a table
 * of median and min–max against its target. Every process it starts is
 * stopped at the end, whatever happens. Figures: list, rpc, respawn, logs,
 * stuck, start, stop, chatty, bridge, idle, rss. Results are kept in bench/RESULTS.md.
 */
import { parseArgs } from "node:util";
import { type Bench, cleanupAll } from "./sandbox.ts";
import { type Figure, FIGURES } from "./figures.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    isolation: { type: "string", default: "both" },
    runs: { type: "string", default: "5" },
  },
  allowPositionals: true,
});
const isolations = values.isolation === "both" ? ["worker", "inline"] : [values.isolation!];
const runs = Math.max(1, Number(values.runs));
const wanted = positionals.length ? positionals : Object.keys(FIGURES);
for (const name of wanted) {
  if (!(name in FIGURES)) {
    console.error(`bench: unknown figure "${name}"; figures: ${Object.keys(FIGURES).join(", ")}`);
    Deno.exit(64);
  }
}

interface Row {
  figure: string;
  isolation: string;
  unit: string;
  values: number[];
  target: string;
}

const rows: Row[] = [];
try {
  for (const name of wanted) {
    const figure: Figure = FIGURES[name]!;
    for (const isolation of isolations) {
      const results: Record<string, number[]> = {};
      for (let i = 0; i < runs; i++) {
        const bench: Bench = { isolation: isolation as "worker" | "inline" };
        for (const [label, value] of Object.entries(await figure.run(bench))) {
          (results[label] ??= []).push(value);
        }
      }
      for (const [label, vals] of Object.entries(results)) {
        const m = figure.measures[label]!;
        rows.push({ figure: label, isolation, unit: m.unit, values: vals, target: m.target });
        print(rows.at(-1)!);
      }
    }
  }
} finally {
  await cleanupAll();
}

console.log(`\n${header()}`);
for (const r of rows) console.log(line(r));

function stats(v: number[]) {
  const s = [...v].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s.at(-1)! };
}

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

function header(): string {
  return "| figure | hosting | median | min–max | target |\n| --- | --- | --- | --- | --- |";
}

function line(r: Row): string {
  const s = stats(r.values);
  return `| ${r.figure} | ${r.isolation} | ${fmt(s.median)} ${r.unit} | ${fmt(s.min)}–${
    fmt(s.max)
  } ${r.unit} | ${r.target} |`;
}

function print(r: Row) {
  console.error(`${line(r)}  (${r.values.length} runs)`);
}
