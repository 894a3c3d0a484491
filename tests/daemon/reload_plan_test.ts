import { assertEquals } from "../assert.ts";
import { planReload } from "../../lib/daemon/reload_plan.ts";
import { decodeServer } from "../../lib/config/decode.ts";
import type { ServerConfig } from "../../lib/config/schema.ts";
import { ConfigError } from "../../lib/config/config_error.ts";

function cfg(name: string, text: string): ServerConfig {
  const r = decodeServer(text, { file: `${name}.kdl`, name });
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
  return r.config;
}

const base = `command "x"\nargs "a" "b"\nport 1\nenv {\n  A "1"\n  B "2"\n}`;

Deno.test("reload plan: added, removed, changed, unchanged and invalid", () => {
  const old = [
    cfg("keep", base),
    cfg("edit", `command "x"\nport 2`),
    cfg("gone", `command "x"\nport 3`),
    cfg("broke", `command "x"\nport 4`),
  ];
  const plan = planReload(old, {
    configs: [
      cfg("keep", base),
      cfg("edit", `command "y"\nport 2`),
      cfg("new", `command "x"\nport 5`),
    ],
    invalid: [{
      name: "broke",
      file: "broke.kdl",
      errors: [new ConfigError("broke.kdl", 1, 1, "bad")],
    }],
  });
  assertEquals(plan.added.map((c) => c.name), ["new"]);
  assertEquals(plan.removed, ["gone"]);
  assertEquals(plan.changed.map((c) => c.name), ["edit"]);
  assertEquals(plan.unchanged, ["keep"]);
  assertEquals(plan.invalid.map((f) => f.name), ["broke"]);
});

const SAME: [string, string][] = [
  [
    "whitespace and comments",
    `// a comment\ncommand   "x"\n\nargs "a" "b"   // trailing\nport 1\nenv { A "1"; B "2"; }`,
  ],
  ["env keys in another order", `command "x"\nargs "a" "b"\nport 1\nenv {\n  B "2"\n  A "1"\n}`],
  ["nodes in another order", `port 1\nenv {\n  A "1"\n  B "2"\n}\nargs "a" "b"\ncommand "x"`],
  [
    "a default written out",
    `command "x"\nargs "a" "b"\nport 1\nenv {\n  A "1"\n  B "2"\n}\nrestart { policy "on-failure"; }`,
  ],
];
for (const [what, text] of SAME) {
  Deno.test(`reload plan: ${what} is unchanged`, () => {
    assertEquals(
      planReload([cfg("s", base)], { configs: [cfg("s", text)], invalid: [] }).unchanged,
      ["s"],
    );
  });
}

const CHANGED: [string, string][] = [
  ["reordered args", `command "x"\nargs "b" "a"\nport 1\nenv {\n  A "1"\n  B "2"\n}`],
  ["an env value", `command "x"\nargs "a" "b"\nport 1\nenv {\n  A "1"\n  B "3"\n}`],
  ["the port", `command "x"\nargs "a" "b"\nport 9\nenv {\n  A "1"\n  B "2"\n}`],
  [
    "the restart policy",
    `command "x"\nargs "a" "b"\nport 1\nenv {\n  A "1"\n  B "2"\n}\nrestart { policy "always"; }`,
  ],
];
for (const [what, text] of CHANGED) {
  Deno.test(`reload plan: ${what} is a change`, () => {
    assertEquals(
      planReload([cfg("s", base)], { configs: [cfg("s", text)], invalid: [] }).changed.map((c) =>
        c.name
      ),
      ["s"],
    );
  });
}
