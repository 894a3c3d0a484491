import { assertEquals } from "./assert.ts";
import { errorMessage, ExitCode, exitCodeForRpc, FAILURES, RpcCode } from "../lib/errors.ts";

Deno.test("errors: each failure has the protocol's code and its exit code, in one table", () => {
  assertEquals(
    Object.entries(FAILURES).map(([name, f]) => [name, f.rpc, f.exit]),
    [
      ["ServerNotFound", -32001, 1],
      ["PortConflict", -32002, 1],
      ["ConfigInvalid", -32003, 3],
      ["AlreadyRunning", -32004, 1],
      ["NotRunning", -32005, 1],
      ["SpawnFailed", -32006, 1],
      ["Internal", -32603, 1],
    ],
  );
  assertEquals(exitCodeForRpc(RpcCode.ConfigInvalid), ExitCode.ConfigInvalid);
  assertEquals(exitCodeForRpc(RpcCode.MethodNotFound), ExitCode.Error);
  assertEquals(errorMessage(new Error("boom")), "boom");
  assertEquals(errorMessage("plain"), "plain");
});
