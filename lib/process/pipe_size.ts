/**
 * The capacity of a child's output pipe, on Linux. A pipe holds 64 KiB by
 * default: a child that writes a larger burst waits for the daemon to read
 * it, and a flood is read 64 KiB at a time, each read a wake-up of the daemon
 * and of the child. Widened to 1 MiB while a child floods
 * (lib/logs/chunk_reader.ts), a burst of up to 1 MiB goes straight in and the
 * flood is read in a quarter of the reads (bench/RESULTS.md, "What each change bought", 13). Deno
 * has no call for it: `fcntl(F_SETPIPE_SZ)` goes through libc by FFI, on the
 * daemon's own end of the pipe, found as the descriptor of this process that
 * is the same pipe as the child's.
 */

const F_SETPIPE_SZ = 1031;

/** libc could not be opened. */
let noLibc = false;

/**
 * Sets to `bytes` the capacity of the pipe that descriptor `fd` of process
 * `pid` writes to, which this process reads. False where it cannot: not
 * Linux, no libc, `fd` not a pipe (any more), or the kernel refused (over
 * `/proc/sys/fs/pipe-max-size` or the user's pipe quota; or smaller than
 * what the pipe holds now). `pid` must be a child not yet reaped, so that it
 * is still the process it was.
 */
export function setPipeSize(pid: number, fd: 1 | 2, bytes: number): boolean {
  if (Deno.build.os !== "linux" || noLibc) return false;
  let pipe: string;
  try {
    pipe = Deno.readLinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return false;
  }
  if (!pipe.startsWith("pipe:")) return false;
  const own = ownDescriptor(pipe);
  if (own === null) return false;
  // Opened for the call and closed after it (it is a reference to the libc already
  // loaded): a pipe is resized at most twice a flood, and nothing is held in between.
  // fcntl is variadic; its third argument, an int, is passed as a fixed one, which the
  // x86-64 and AArch64 Linux calling conventions allow.
  let libc;
  try {
    libc = Deno.dlopen("libc.so.6", {
      fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
    });
  } catch {
    // Not glibc, or no FFI permission: not asked again.
    noLibc = true;
    return false;
  }
  try {
    return libc.symbols.fcntl(own, F_SETPIPE_SZ, bytes) >= 0;
  } finally {
    libc.close();
  }
}

/** This process's descriptor whose link is `link` (`pipe:[inode]`). */
function ownDescriptor(link: string): number | null {
  try {
    for (const entry of Deno.readDirSync("/proc/self/fd")) {
      try {
        if (Deno.readLinkSync(`/proc/self/fd/${entry.name}`) === link) return Number(entry.name);
      } catch {
        // Closed while we looked (the directory's own descriptor, one of another thread).
      }
    }
  } catch {
    // No /proc.
  }
  return null;
}
