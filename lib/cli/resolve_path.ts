/** Paths from the command line or a client's file, made absolute (the daemon runs in `/`). */

/** `path` made absolute against `base`, `.` and `..` resolved. */
export function resolvePath(path: string, base: string): string {
  const out: string[] = [];
  for (const p of (path.startsWith("/") ? path : `${base}/${path}`).split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") out.pop();
    else out.push(p);
  }
  return `/${out.join("/")}`;
}
