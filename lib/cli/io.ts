/** Where the CLI writes, and what it knows of its environment: the terminal, or a fake in tests. */

/** The CLI's terminal. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  env(name: string): string | undefined;
  readonly isTerminal: boolean;
}

const encoder = new TextEncoder();

function writeAll(w: { writeSync(p: Uint8Array): number }, text: string) {
  const bytes = encoder.encode(text);
  let off = 0;
  while (off < bytes.length) off += w.writeSync(bytes.subarray(off));
}

/** The real terminal. */
export const denoIo: Io = {
  out: (t) => writeAll(Deno.stdout, t),
  err: (t) => writeAll(Deno.stderr, t),
  env: (n) => Deno.env.get(n),
  isTerminal: Deno.stdout.isTerminal(),
};
