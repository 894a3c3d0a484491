import { assertEquals } from "../assert.ts";
import {
  graphOf,
  startWaves,
  stopWaves,
  withDependencies,
  withDependents,
} from "../../lib/daemon/dependencies.ts";

// web → api → db, api → cache; worker → db; lone
const graph = graphOf([
  { name: "web", dependsOn: ["api"] },
  { name: "api", dependsOn: ["db", "cache"] },
  { name: "db", dependsOn: [] },
  { name: "cache", dependsOn: [] },
  { name: "worker", dependsOn: ["db"] },
  { name: "lone", dependsOn: [] },
]);

Deno.test("dependencies: starting a server starts what it depends on, in waves, dependencies first", () => {
  assertEquals([...withDependencies(graph, ["web"])].sort(), ["api", "cache", "db", "web"]);
  assertEquals(startWaves(graph, withDependencies(graph, ["web"])), [
    ["cache", "db"],
    ["api"],
    ["web"],
  ]);
  assertEquals(startWaves(graph, graph.keys()), [
    ["cache", "db", "lone"],
    ["api", "worker"],
    ["web"],
  ]);
});

Deno.test("dependencies: stopping a server stops what depends on it first", () => {
  assertEquals([...withDependents(graph, ["db"])].sort(), ["api", "db", "web", "worker"]);
  assertEquals(stopWaves(graph, withDependents(graph, ["db"])), [["web"], ["api", "worker"], [
    "db",
  ]]);
  assertEquals(stopWaves(graph, ["lone"]), [["lone"]]);
});

Deno.test("dependencies: a wave names its servers as people count them", () => {
  const flat = graphOf(["s10", "s2", "s1"].map((name) => ({ name, dependsOn: [] })));
  assertEquals(startWaves(flat, flat.keys()), [["s1", "s2", "s10"]]);
  assertEquals(stopWaves(flat, flat.keys()), [["s1", "s2", "s10"]]);
});

Deno.test("dependencies: a dependency outside the set does not hold a wave back", () => {
  assertEquals(startWaves(graph, ["web", "cache"]), [["cache", "web"]]);
});
