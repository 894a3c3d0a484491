/** Command lines shown to the user, to read or to paste into a shell (pure). */

/** Quotes a word for display when the shell would need it. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** A command line, each word quoted where the shell needs it. */
export function shellLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}
