import { equal, match, ok } from "node:assert/strict";
import {
  runTinyLines,
  tinyLinesTables,
  tinyLinesVerdict,
} from "./tiny_lines.ts";

Deno.test("tiny-lines, in small: clients that never read are cut, seen in the log and in the socket table", async () => {
  // Small limits and fatter lines, so the kernel's buffers fill and the
  // server's limits fire within seconds.
  const { result } = await runTinyLines(
    {
      kind: "spawn",
      command:
        "deno run -A server/main.ts --port {port} --log json --max-pending-bytes 256k --write-timeout 1500",
      env: {},
      jsonLog: true,
    },
    {
      idle: 8,
      rate: 2000,
      lineBytes: 1000,
      durationMs: 4000,
      watchMs: 2000,
      sampleEveryMs: 2000,
      drainMs: 2000,
    },
  );
  equal(result.serverDiedAtMs, null);
  equal(result.idle.cutSource, "server log");
  equal(result.idle.cut.count, 8);
  const reasons = Object.keys(result.idle.closeReasons ?? {});
  ok(reasons.every((r) => r.startsWith("slow-consumer")), reasons.join());
  equal(result.samples.at(-1)?.idleCut, 8, "the socket table saw them cut too");
  ok((result.rss.peakBytes ?? 0) > 0);
  ok(result.chatters.sent.every((n) => n > 4000));
  equal(result.chatters.received[0], result.chatters.sent[1]);
  equal(result.chatters.received[1], result.chatters.sent[0]);
  const [summary, overTime] = tinyLinesTables(result);
  match(summary.rows[2][1], /^8 of 8 \(first at/);
  ok(overTime.rows.length >= 2);
  match(
    tinyLinesVerdict(result),
    /^server stayed up; RSS peak .*; 8 of 8 non-readers cut by/,
  );
});
