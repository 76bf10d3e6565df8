import { equal } from "node:assert/strict";
import { startServer } from "../lib/server_process.ts";
import { discardStdout, signalOf } from "./spawn.ts";

Deno.test("discardStdout: the server's stdout is gone, its stderr kept", async () => {
  await using server = await startServer({
    command: discardStdout(
      "echo out; echo err >&2; exec ncat -l --broker 127.0.0.1 {port}",
    ),
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  equal(server.outputTail().trim(), "err");
});

Deno.test("signalOf reads a shell's 128 + N as the signal N", () => {
  equal(signalOf({ success: false, code: 137, signal: null }), "SIGKILL");
  equal(signalOf({ success: false, code: 0, signal: "SIGTERM" }), "SIGTERM");
  equal(signalOf({ success: true, code: 0, signal: null }), null);
  equal(signalOf({ success: false, code: 3, signal: null }), null);
});
