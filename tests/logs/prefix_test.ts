import { assert, assertEquals } from "../assert.ts";
import wabt from "wabt";
import { PREFIX_WASM, PrefixInserter } from "../../lib/logs/prefix.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const PREFIX = "2026-12-01T15:16:47.123Z [out] ";

/** What the text path writes for `lines` (whole lines joined by \n, the last ending in \n). */
function textPath(lines: string, prefix: string): string {
  return prefix + lines.slice(0, -1).replaceAll("\n", `\n${prefix}`) + "\n";
}

Deno.test("prefix: the embedded module is prefix.wat compiled", async () => {
  const w = await wabt();
  const wat = await Deno.readTextFile(new URL("../../lib/logs/prefix.wat", import.meta.url));
  const mod = w.parseWat("prefix.wat", wat, { simd: true });
  try {
    const { buffer } = mod.toBinary({});
    assertEquals(btoa(String.fromCharCode(...buffer)), PREFIX_WASM);
  } finally {
    mod.destroy();
  }
});

Deno.test("prefix: plain lines get the prefix the text path gives them, over random blocks", () => {
  const inserter = new PrefixInserter();
  let s = 7;
  const rnd = (n: number) => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % n;
  for (let round = 0; round < 400; round++) {
    const lines: string[] = [];
    const count = 1 + rnd(60);
    for (let i = 0; i < count; i++) {
      // Empty lines, lines around the 16-byte steps, and long ones.
      const len = [0, 1, 15, 16, 17, 31, 32, 33][rnd(8)]! + (rnd(4) === 0 ? rnd(3000) : 0);
      lines.push(Array.from({ length: len }, () => String.fromCharCode(32 + rnd(95))).join(""));
    }
    const text = lines.join("\n") + "\n";
    const prefix = PREFIX.slice(0, rnd(33));
    const out = inserter.insert(enc(text), enc(prefix));
    assert(out !== null, `round ${round}`);
    assertEquals(dec(out), textPath(text, prefix), `round ${round}`);
  }
});

Deno.test("prefix: prefixes of 16 to 32 bytes over short lines, several to a 16-byte step", () => {
  const inserter = new PrefixInserter();
  let s = 11;
  const rnd = (n: number) => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % n;
  for (let round = 0; round < 600; round++) {
    const lines = Array.from(
      { length: 1 + rnd(80) },
      () => "abcdefghijklmnopqrstuvwxyz0123456789".slice(0, rnd(4) === 0 ? rnd(37) : rnd(4)),
    );
    const text = lines.join("\n") + "\n";
    const prefix = PREFIX.padEnd(32, "~").slice(0, 16 + rnd(17));
    const out = inserter.insert(enc(text), enc(prefix));
    assert(out !== null, `round ${round}`);
    assertEquals(dec(out), textPath(text, prefix), `round ${round}`);
    // One byte it must refuse, anywhere, is found.
    const bytes = enc(text);
    bytes[rnd(bytes.length - 1)] = [13, 0x80, 0xff][rnd(3)]!;
    assertEquals(inserter.insert(bytes, enc(prefix)), null, `round ${round}, refused`);
  }
});

Deno.test("prefix: a block of a million lines, in blocks of 64 KiB, as the text path", () => {
  const inserter = new PrefixInserter();
  const line = (i: number) => `line ${String(i).padStart(7, "0")} `.padEnd(99, "x") + "\n";
  let block = "";
  for (let i = 1; i <= 650; i++) block += line(i);
  const out = inserter.insert(enc(block), enc(PREFIX));
  assertEquals(dec(out!), textPath(block, PREFIX));
});

Deno.test("prefix: bytes of 0x80 and more, and carriage returns, are left to the text path", () => {
  const inserter = new PrefixInserter();
  assertEquals(inserter.insert(enc("héllo\n"), enc(PREFIX)), null);
  assertEquals(inserter.insert(enc("ok\nwindows\r\n"), enc(PREFIX)), null);
  assertEquals(
    inserter.insert(Uint8Array.from([...enc("x".repeat(40)), 0xff, 10]), enc(PREFIX)),
    null,
  );
  // And after a refusal it still works.
  assertEquals(dec(inserter.insert(enc("a\nb\n"), enc("> "))!), "> a\n> b\n");
  // A prefix longer than the module copies is refused, not cut.
  assertEquals(inserter.insert(enc("a\n"), enc("p".repeat(33))), null);
});
