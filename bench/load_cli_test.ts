import { deepEqual, equal, match, throws } from "node:assert/strict";
import { UsageError } from "../lib/args.ts";
import {
  exitCodeOf,
  formatBytes,
  formatLoadReport,
  parseDuration,
  parseLoadArgs,
} from "./load_cli.ts";
import { runLoad } from "./load_generator.ts";
import { serve } from "../server/chat_server.ts";
import { Logger } from "../server/logger.ts";

Deno.test("parseLoadArgs: defaults", () => {
  const args = parseLoadArgs(["--target", "127.0.0.1:7687"]);
  deepEqual(args.target, { hostname: "127.0.0.1", port: 7687 });
  deepEqual(args.load, {
    clients: 100,
    senders: 1,
    rate: 100,
    size: 64,
    durationMs: 10_000,
    warmupMs: 2000,
    lines: undefined,
    connectRate: 1000,
    window: 256,
    slowConsumers: 0,
    drainMs: 5000,
    rssSteps: 10,
    rssSettleMs: 250,
    maxLagMs: 5,
    maxCpu: 0.9,
    maxOtherCpu: 0.25,
    spinMs: 0,
  });
  equal(args.json, false);
});

Deno.test("parseLoadArgs: every flag", () => {
  const args = parseLoadArgs([
    "--spawn",
    "ncat -l --broker 127.0.0.1 {port}",
    "--clients",
    "10k",
    "--senders=10",
    "--rate",
    "0.5",
    "--size",
    "1k",
    "--duration",
    "2m",
    "--warmup",
    "500ms",
    "--lines",
    "1",
    "--connect-rate",
    "0",
    "--window",
    "16",
    "--slow-consumers",
    "2",
    "--drain",
    "1.5",
    "--rss-steps",
    "4",
    "--json",
  ]);
  equal(args.spawn, "ncat -l --broker 127.0.0.1 {port}");
  equal(args.target, undefined);
  equal(args.json, true);
  deepEqual(
    [args.load.clients, args.load.senders, args.load.rate, args.load.size],
    [10_240, 10, 0.5, 1024],
  );
  deepEqual(
    [args.load.durationMs, args.load.warmupMs, args.load.drainMs],
    [120_000, 500, 1500],
  );
  deepEqual(
    [args.load.lines, args.load.connectRate, args.load.window],
    [1, 0, 16],
  );
  deepEqual([args.load.slowConsumers, args.load.rssSteps], [2, 4]);
});

Deno.test("parseLoadArgs: mistakes are usage errors", () => {
  for (
    const bad of [
      [],
      ["--target", "x:1", "--spawn", "s {port}"],
      ["--spawn", "no placeholder"],
      ["--spawn", "s {port}", "--pid", "3"],
      ["--target", ":1", "--senders", "5", "--clients", "4"],
      ["--target", ":1", "--duration", "soon"],
      ["--target", ":1", "--bogus"],
      ["--target", ":1", "extra"],
    ]
  ) {
    throws(() => parseLoadArgs(bad), (error: unknown) => {
      return error instanceof UsageError ||
        (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ===
          true;
    }, bad.join(" "));
  }
  equal(parseLoadArgs(["--help"]).help, true);
});

Deno.test("parseDuration: seconds by default, ms, s and m units", () => {
  deepEqual(
    ["10", "2.5s", "250ms", "1m", "0"].map((v) => parseDuration("--x", v)),
    [10_000, 2500, 250, 60_000, 0],
  );
  throws(() => parseDuration("--x", "-1"), UsageError);
});

Deno.test("formatBytes uses binary units", () => {
  deepEqual(
    [0, 1023, 5734, 1024 * 1024 * 40.1].map(formatBytes),
    ["0 B", "1023 B", "5.6 KiB", "40.1 MiB"],
  );
});

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
    match(text, /^linechat load → 127\.0\.0\.1:\d+: 3 clients/);
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
  } finally {
    await server.shutdown();
  }
});
