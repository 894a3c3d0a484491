/** A line diff for `--dry-run`: what a write would change, in the unified format people read. */

/** The lines of `before` and `after` as `-`, `+` and ` ` lines, with `context` lines around each change. */
export function lineDiff(before: string, after: string, context = 2): string {
  const a = before === "" ? [] : before.replace(/\n$/, "").split("\n");
  const b = after === "" ? [] : after.replace(/\n$/, "").split("\n");
  // Longest common subsequence, from the ends: client files are small.
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j]
        ? lcs[i + 1]![j + 1]! + 1
        : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: [" " | "-" | "+", string][] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push([" ", a[i++]!]);
      j++;
    } else if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) ops.push(["+", b[j++]!]);
    else ops.push(["-", a[i++]!]);
  }
  const keep = ops.map((_, k) =>
    ops.slice(Math.max(0, k - context), k + context + 1).some(([op]) => op !== " ")
  );
  const out: string[] = [];
  let gap = false;
  ops.forEach(([op, line], k) => {
    if (!keep[k]) {
      gap = true;
      return;
    }
    if (gap && out.length) out.push("…");
    gap = false;
    out.push(`${op} ${line}`);
  });
  return out.length ? `${out.join("\n")}\n` : "";
}
