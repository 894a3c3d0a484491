import { assertEquals, assertMatch } from "../assert.ts";
import { privateGroup, trustProblem } from "../../lib/config/trust.ts";

const passwd = [
  "root:x:0:0:root:/root:/bin/bash",
  "me:x:1000:1000:Me:/home/me:/bin/bash",
  "you:x:1001:1001:You:/home/you:/bin/bash",
  "team1:x:1002:2000::/home/team1:/bin/sh",
  "team2:x:1003:2000::/home/team2:/bin/sh",
].join("\n");
const group = [
  "root:x:0:",
  "me:x:1000:",
  "you:x:1001:me",
  "team:x:2000:",
  "devs:x:3000:me,you",
  "solo:x:3001:me",
  "empty:x:3002:",
].join("\n");
const files = { passwd, group };

Deno.test("trust: the user's private group is private; shared, foreign and empty groups are not", () => {
  assertEquals(privateGroup(1000, 1000, files), true, "me's own group, primary of me alone");
  assertEquals(privateGroup(3001, 1000, files), true, "a group listing me alone");
  assertEquals(privateGroup(1001, 1000, files), false, "you's group, even with me listed");
  assertEquals(privateGroup(2000, 1002, files), false, "primary group of two users");
  assertEquals(privateGroup(3000, 1000, files), false, "lists two members");
  assertEquals(privateGroup(3002, 1000, files), false, "no member at all");
  assertEquals(privateGroup(9999, 1000, files), false, "no such group");
});

Deno.test("trust: group write is accepted only for the private group; world write never", () => {
  const check = (mode: number, gid: number) =>
    trustProblem("/c/a.kdl", "file", { info: { uid: 1000, gid, mode }, uid: 1000, ...files });
  assertEquals(check(0o100664, 1000), undefined);
  assertMatch(
    check(0o100664, 3000)!,
    /^refused: file \/c\/a\.kdl is writable by group or others \(mode 0664\); run chmod go-w/,
  );
  assertMatch(check(0o100666, 1000)!, /mode 0666/);
  assertEquals(check(0o100644, 3000), undefined);
  assertMatch(
    trustProblem("/c/a.kdl", "file", {
      info: { uid: 1001, gid: 1001, mode: 0o100600 },
      uid: 1000,
      ...files,
    })!,
    /owned by another user \(uid 1001\)/,
  );
});
