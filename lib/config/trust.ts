/**
 * Which config files the daemon may trust: it runs what they say, so nobody
 * but the user may be able to change them. A file or directory owned by
 * another user, or writable by others, is refused. Group write is refused too,
 * unless the group is the user's private group — its only member is the user —
 * as on systems that give each user a group of their own and a umask of 002
 * (the rule Debian's OpenSSH applies to `~/.ssh`).
 */

/** What the rule needs to know of a file. */
export interface Ownership {
  readonly uid: number | null;
  readonly gid: number | null;
  readonly mode: number | null;
}

/** Why `path` must not be trusted, or undefined; `what` names it in the message. */
export async function untrusted(path: string, what: string): Promise<string | undefined> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    return undefined;
  }
  const groupWritable = info.mode !== null && (info.mode & 0o020) !== 0;
  const files = groupWritable ? await accountFiles() : { passwd: "", group: "" };
  return trustProblem(path, what, { info, uid: Deno.uid(), ...files });
}

async function accountFiles(): Promise<{ passwd: string; group: string }> {
  const read = (p: string) => Deno.readTextFile(p).catch(() => "");
  return { passwd: await read("/etc/passwd"), group: await read("/etc/group") };
}

/** The rule itself (pure): why a file with `info` may not be trusted by user `uid`, or undefined. */
export function trustProblem(
  path: string,
  what: string,
  ctx: { info: Ownership; uid: number | null; passwd: string; group: string },
): string | undefined {
  const { info, uid } = ctx;
  if (uid !== null && info.uid !== null && info.uid !== uid && info.uid !== 0) {
    return `refused: ${what} ${path} is owned by another user (uid ${info.uid})`;
  }
  if (info.mode === null) return undefined;
  const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
  const refuse = `refused: ${what} ${path} is writable by group or others (mode ${mode}); ` +
    `run chmod go-w ${path}`;
  if ((info.mode & 0o002) !== 0) return refuse;
  if ((info.mode & 0o020) === 0) return undefined;
  const owner = info.uid ?? uid;
  if (owner === null || info.gid === null) return refuse;
  return privateGroup(info.gid, owner, ctx) ? undefined : refuse;
}

/**
 * True when group `gid` has exactly one member, user `uid` — counting the
 * users whose primary group it is (`/etc/passwd`) and the members it lists
 * (`/etc/group`). A group with no member at all is not private (setgid
 * programs use such groups).
 */
export function privateGroup(
  gid: number,
  uid: number,
  files: { passwd: string; group: string },
): boolean {
  const users = entries(files.passwd).map((f) => ({
    name: f[0]!,
    uid: Number(f[2]),
    gid: Number(f[3]),
  }));
  const group = entries(files.group).find((f) => Number(f[2]) === gid);
  const me = users.find((u) => u.uid === uid);
  if (!group || !me) return false;
  let members = 0;
  for (const u of users) {
    if (u.gid !== gid) continue;
    if (u.uid !== uid) return false;
    members++;
  }
  const listed = (group[3] ?? "").split(",").map((m) => m.trim()).filter((m) => m);
  if (listed.length > 0) {
    if (listed.length > 1 || listed[0] !== me.name) return false;
    members++;
  }
  return members > 0;
}

/** The colon-separated fields of each line of an `/etc/passwd` or `/etc/group` file. */
function entries(text: string): string[][] {
  return text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(":"));
}
