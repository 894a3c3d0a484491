/**
 * Writing a new server's file, for `xy add` and `xy import` (SPEC §12): a
 * port no other config names and nothing listens on, the file written 0600
 * and never over an existing one, and read back as `xy config check` reads
 * it — a file that does not load is taken back, with its errors.
 */
import { type InvalidFile, loadConfigDir } from "../config/load.ts";
import { decodeServer } from "../config/decode.ts";
import { portInUse } from "../process/port.ts";

/** Where ports are chosen: a range few other programs use, away from the ephemeral one. */
export const CHOSEN_PORTS = { from: 8400, to: 8999 } as const;

/** The ports the config files in `dir` name, valid or not. */
export async function portsNamed(dir: string): Promise<Set<number>> {
  const ports = new Set<number>();
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch {
    return ports; // No config dir yet.
  }
  for (const e of entries) {
    if (!e.name.endsWith(".kdl")) continue;
    const text = await Deno.readTextFile(`${dir}/${e.name}`).catch(() => "");
    const r = decodeServer(text, { file: e.name, name: e.name.slice(0, -4) });
    if (r.ok) ports.add(r.config.port);
    // An invalid file still claims what it says.
    else for (const m of text.matchAll(/^\s*port\s+(\d+)/gm)) ports.add(Number(m[1]));
  }
  return ports;
}

/**
 * A free port: in {@link CHOSEN_PORTS}, not in `taken` (named by a config, or
 * chosen already), and where nothing accepts connections. Tried at random, so
 * two imports at once seldom pick the same.
 */
export async function choosePort(taken: ReadonlySet<number>): Promise<number> {
  const span = CHOSEN_PORTS.to - CHOSEN_PORTS.from + 1;
  for (let i = 0; i < 200; i++) {
    const port = CHOSEN_PORTS.from + Math.floor(Math.random() * span);
    if (taken.has(port) || await portInUse(port, 200)) continue;
    return port;
  }
  throw new Error(
    `no free port between ${CHOSEN_PORTS.from} and ${CHOSEN_PORTS.to}: give one with --port`,
  );
}

/** A file that already exists: it is never written over. */
export class FileExistsError extends Error {
  override readonly name = "FileExistsError";
  constructor(readonly file: string) {
    super(`${file} already exists: xy never writes over a server's file (xy remove, or edit it)`);
  }
}

/**
 * Writes `text` as `<dir>/<name>.kdl`, mode 0600, unless that file exists
 * (atomically: a file made meanwhile is not replaced either); then loads the
 * directory as the daemon would. Resolves with the file, or with the file's
 * errors after taking it back.
 */
export async function writeServerFile(
  dir: string,
  name: string,
  text: string,
): Promise<{ file: string; invalid?: InvalidFile }> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = `${dir}/${name}.kdl`;
  const tmp = `${dir}/.${name}.kdl.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(tmp, text, { mode: 0o600 });
  try {
    await Deno.link(tmp, file);
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) throw new FileExistsError(file);
    throw e;
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
  const loaded = await loadConfigDir(dir);
  const invalid = loaded.invalid.find((f) => f.name === name);
  if (!invalid) return { file };
  await Deno.remove(file).catch(() => {});
  return { file, invalid };
}
