import { assertEquals } from "../assert.ts";
import { errorMessage } from "../../lib/error_message.ts";
import { ExitCode, exitCodeForRpc, FAILURES } from "../../lib/protocol/failures.ts";
import { RpcCode } from "../../lib/rpc/errors.ts";

Deno.test("failures: each failure has the protocol's code and its exit code, in one table", () => {
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
  assertEquals(exitCodeForRpc(FAILURES.ConfigInvalid.rpc), ExitCode.ConfigInvalid);
  assertEquals(exitCodeForRpc(RpcCode.MethodNotFound), ExitCode.Error);
  assertEquals(errorMessage(new Error("boom")), "boom");
  assertEquals(errorMessage("plain"), "plain");
});
