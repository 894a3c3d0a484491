/** A command line the CLI cannot take: exit code 64, and the message says what was expected. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
