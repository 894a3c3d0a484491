/**
 * A child for the chatty figure: prints a numbered line of 100 bytes
 * (newline included) every `args[0]` ms, for ever, as a server that logs
 * steadily does: each line in a write of its own.
 */
const every = Number(Deno.args[0] ?? 10);
const enc = new TextEncoder();
let n = 0;
setInterval(() => {
  n++;
  Deno.stdout.writeSync(enc.encode(`tick ${String(n).padStart(9, "0")} `.padEnd(99, "x") + "\n"));
}, every);
