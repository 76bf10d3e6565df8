import { equal, match } from "node:assert/strict";
import { Logger } from "../../server/logger.ts";
import { serve } from "../../server/chat_server.ts";
import { exitCodeOf, formatLoadReport } from "./format.ts";
import { runLoad } from "./run.ts";

Deno.test("a real report formats, and a clean run exits 0", async () => {
  const server = serve({
    port: 0,
    logger: new Logger({ quiet: true, write: () => {} }),
  });
  try {
    const report = await runLoad({
      port: server.addr.port,
      clients: 3,
      senders: 1,
      rate: 0,
      lines: 10,
      durationMs: 5000,
      warmupMs: 0,
      // Generator CPU is not what this test is about.
      maxCpu: 64,
    });
    const text = formatLoadReport(report);
    match(text, /^linechat load → 127\.0\.0\.1:\d+: 3 clients, 1 sender as/);
    // No server is sampled, so no pause was for a memory sample.
    equal(text.includes("pauses for memory samples"), false);
    match(text, /20 deliveries expected, 20 delivered \(100\.000 %\)/);
    match(text, /verdict +valid/);
    // The network line appears only when the kernel lost something.
    const quiet = formatLoadReport({
      ...report,
      network: { tcpRetransmits: 0, backlogDrops: 0 },
    });
    equal(quiet.includes("retransmissions"), false);
    match(
      formatLoadReport({
        ...report,
        network: { tcpRetransmits: 12, backlogDrops: 7 },
      }),
      /^network +12 TCP retransmissions, 7 packets dropped at a full input backlog/m,
    );
    equal(exitCodeOf(report), 0);
    equal(exitCodeOf({ ...report, failure: "stalled" }), 1);
    equal(
      exitCodeOf({
        ...report,
        accounting: { ...report.accounting, lost: 1 },
      }),
      3,
    );
    equal(exitCodeOf({ ...report, valid: false }), 3);
  } finally {
    await server.shutdown();
  }
});
