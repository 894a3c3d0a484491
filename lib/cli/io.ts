/** Where the CLI writes, and what it knows of its environment: the terminal, or a fake in tests. */

/** The CLI's terminal. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  env(name: string): string | undefined;
  readonly isTerminal: boolean;
}

const encoder = new TextEncoder();

/** Writes all of `text`; `gone` is called instead when nobody reads the other end any more. */
function writeAll(w: { writeSync(p: Uint8Array): number }, text: string, gone: () => void) {
  const bytes = encoder.encode(text);
  let off = 0;
  try {
    while (off < bytes.length) off += w.writeSync(bytes.subarray(off));
  } catch (e) {
    if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
    gone();
  }
}

/**
 * The real terminal. When the reader of stdout goes (`xy logs -f | head`),
 * nothing more can be shown: the CLI ends at once, quietly and with 0.
 */
export const denoIo: Io = {
  out: (t) => writeAll(Deno.stdout, t, () => Deno.exit(0)),
  err: (t) => writeAll(Deno.stderr, t, () => {}),
  env: (n) => Deno.env.get(n),
  isTerminal: Deno.stdout.isTerminal(),
};
