/**
 * The single-instance lock: an exclusive `flock` on `<socket>.lock`, taken
 * before anything else and held for the daemon's life. The kernel drops it
 * when the holder dies, however it dies, so it can never go stale; and since
 * only the holder may bind or unlink the socket, no daemon can remove another's
 * live socket. Deno opens files close-on-exec, so children never inherit it.
 */

/** Takes the lock at `path`, or returns null when another process holds it. */
export async function tryLockFile(path: string): Promise<Deno.FsFile | null> {
  const file = await Deno.open(path, { create: true, read: true, write: true, mode: 0o600 });
  try {
    if (await file.tryLock(true)) return file;
  } catch (e) {
    file.close();
    throw e;
  }
  file.close();
  return null;
}

/** Waits for the lock at `path` (used by the CLI so concurrent callers start one daemon). */
export async function lockFile(path: string): Promise<Deno.FsFile> {
  const file = await Deno.open(path, { create: true, read: true, write: true, mode: 0o600 });
  await file.lock(true);
  return file;
}
