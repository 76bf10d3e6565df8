import { equal, ok } from "node:assert/strict";
import { blockedStdoutVerdict, runBlockedStdout } from "./blocked_stdout.ts";

Deno.test("blocked-stdout, in small: with stdout never read the room keeps chatting and accepting, and SIGTERM still stops it", async () => {
  const { result, servers } = await runBlockedStdout(
    { kind: "ours", transport: "deno", env: {} },
    { connects: 1000, connectRate: 0, probeEvery: 250, drainMs: 2000 },
  );
  equal(result.churn.connected, 1000);
  equal(result.churn.failed, 0);
  equal(result.checkpoints.length, 4);
  ok(result.checkpoints.every((c) => c.probeMs !== null));
  equal(result.frozeAtConnect, null);
  equal(result.chat.lost, 0);
  ok(result.newcomerMs !== null);
  equal(result.stop?.code, 0);
  equal(result.stop?.killed, false);
  // The pipe really was blocked: the shutdown summary never got out.
  ok((result.stdout?.bytes ?? 0) > 0);
  equal(result.stdout?.shutdownLogged, false);
  equal(servers[0].exit?.code, 0);
  ok(blockedStdoutVerdict(result).startsWith("room never froze"));
});
