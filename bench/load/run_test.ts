import { deepEqual, equal, match, ok } from "node:assert/strict";
import { Logger } from "../../server/logger.ts";
import { serve } from "../../server/chat_server.ts";
import { LineSplitter } from "../../protocol/line_splitter.ts";
import { throwawayCertificate } from "../../lib/throwaway_certificate.ts";
import { testWithTools } from "../../_testing/tools.ts";
import { runLoad } from "./run.ts";

const quiet = () => new Logger({ quiet: true, write: () => {} });

Deno.test("open loop against our server: every line delivered once, in order", async () => {
  const server = serve({ port: 0, logger: quiet() });
  try {
    const report = await runLoad({
      port: server.addr.port,
      clients: 20,
      senders: 3,
      rate: 200,
      durationMs: 500,
      warmupMs: 100,
      drainMs: 3000,
      connectRate: 0,
    });
    equal(report.failure, null);
    const a = report.accounting;
    // 3 senders × 200 lines/s × 0.6 s are due; a scheduler that stalls
    // (it once slept to the end when every sender had a write pending)
    // sends a small fraction. The bound is loose: no timing is asserted.
    equal(a.linesSent >= 180, true, `only ${a.linesSent} lines sent`);
    equal(a.expected, a.linesSent * 19);
    deepEqual(
      [a.delivered, a.lost, a.duplicated, a.reordered, a.echoed],
      [a.expected, 0, 0, 0, 0],
    );
    deepEqual([a.malformed, a.foreign, a.deliveryRatio], [0, 0, 1]);
    equal(report.connect.connected, 20);
    equal(report.disconnects.total, 0);
    // Each line measured once per receiver, corrected and not.
    equal(report.latency.corrected.count, report.latency.uncorrected.count);
    equal(report.latency.corrected.count > 0, true);
    equal(report.latency.corrected.count <= a.delivered, true);
  } finally {
    await server.shutdown();
  }
});

Deno.test("closed loop with a line limit sends exactly that many lines", async () => {
  const server = serve({ port: 0, logger: quiet() });
  try {
    const report = await runLoad({
      port: server.addr.port,
      clients: 10,
      senders: 2,
      rate: 0,
      lines: 500,
      window: 64,
      durationMs: 10_000,
      warmupMs: 0,
      size: 100,
    });
    equal(report.failure, null);
    const a = report.accounting;
    deepEqual([a.linesSent, a.expected, a.delivered], [1000, 9000, 9000]);
    deepEqual([a.lost, a.duplicated, a.reordered], [0, 0, 0]);
    equal(report.latency.corrected.count, 9000);
    equal(report.latency.lastDeliveryMs > 0, true);
  } finally {
    await server.shutdown();
  }
});

Deno.test("slow consumers are not receivers, and are reported", async () => {
  const server = serve({ port: 0, logger: quiet() });
  try {
    const report = await runLoad({
      port: server.addr.port,
      clients: 5,
      senders: 1,
      rate: 0,
      lines: 200,
      slowConsumers: 1,
      durationMs: 10_000,
      warmupMs: 0,
    });
    equal(report.failure, null);
    deepEqual([report.accounting.expected, report.accounting.lost], [800, 0]);
    equal(report.slowConsumers.count, 1);
    equal(report.slowConsumers.closedByServer, 0);
    // It received what it never read: the probes and 200 lines.
    equal(report.slowConsumers.bytesPending >= 200 * 66, true);
  } finally {
    await server.shutdown();
  }
});

/**
 * A relay that breaks the protocol on purpose, per sender's k-th payload
 * line: k % 10 = 3 dropped, 5 sent twice, 7 sent after the line behind it,
 * 9 echoed to its sender too. Other lines (join probes) pass unchanged.
 */
function faultyRelay(): { port: number; close: () => Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const clients = new Set<Deno.Conn>();
  const loops: Promise<void>[] = [];
  const crlf = (line: Uint8Array) => {
    const out = new Uint8Array(line.length + 2);
    out.set(line);
    out.set([13, 10], line.length);
    return out;
  };
  const send = (to: Deno.Conn, bytes: Uint8Array) =>
    to.write(bytes).catch(() => {});
  const accepting = (async () => {
    for await (const conn of listener) {
      clients.add(conn);
      loops.push((async () => {
        const splitter = new LineSplitter();
        const buffer = new Uint8Array(4096);
        let k = 0;
        let held: Uint8Array | undefined;
        const toOthers = (bytes: Uint8Array) => {
          for (const c of clients) if (c !== conn) send(c, bytes);
        };
        try {
          let n: number | null;
          while ((n = await conn.read(buffer)) !== null) {
            splitter.push(buffer.subarray(0, n), (line) => {
              const out = crlf(line);
              if (line[4] !== 0x3a) return toOthers(out); // a probe
              const fault = k++ % 10;
              if (fault === 3) return;
              if (fault === 7) {
                held = out;
                return;
              }
              toOthers(out);
              if (fault === 5) toOthers(out);
              if (fault === 9) send(conn, out);
              if (held) {
                toOthers(held);
                held = undefined;
              }
            });
          }
        } catch {
          // Closed.
        }
        clients.delete(conn);
      })());
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close: async () => {
      listener.close();
      await accepting;
      for (const c of clients) c.close();
      await Promise.all(loops);
    },
  };
}

for (const workers of [1, 2]) {
  Deno.test(`lost, duplicated, reordered and echoed lines are each counted (workers: ${workers})`, async () => {
    await faultsCounted(workers);
  });
}

async function faultsCounted(workers: number) {
  const relay = faultyRelay();
  try {
    const report = await runLoad({
      port: relay.port,
      clients: 4,
      senders: 2,
      rate: 0,
      lines: 100,
      window: 256,
      durationMs: 10_000,
      warmupMs: 0,
      drainMs: 300,
      workers,
    });
    equal(report.generator.workers, workers);
    equal(report.failure, null);
    const a = report.accounting;
    // Per sender: 100 lines to 3 others; 10 of them dropped, 10 doubled,
    // 10 late, 10 echoed.
    deepEqual(
      {
        linesSent: a.linesSent,
        expected: a.expected,
        delivered: a.delivered,
        lost: a.lost,
        duplicated: a.duplicated,
        reordered: a.reordered,
        echoed: a.echoed,
        malformed: a.malformed,
      },
      {
        linesSent: 200,
        expected: 600,
        delivered: 540,
        lost: 60,
        duplicated: 60,
        reordered: 60,
        echoed: 20,
        malformed: 0,
      },
    );
    equal(a.deliveryRatio, 0.9);
  } finally {
    await relay.close();
  }
}

Deno.test("a refused connection fails the run at once, saying so in one line", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const report = await runLoad({ port, clients: 300, durationMs: 100 });
  ok(report.connect.failed >= 1 && report.connect.failed < 300);
  equal(report.failure, `127.0.0.1:${port} refused the connection`);
});

Deno.test("two workers against our server: the open loop's lines each delivered once, every thread measured", async () => {
  const server = serve({ port: 0, logger: quiet() });
  try {
    const report = await runLoad({
      port: server.addr.port,
      clients: 12,
      senders: 4,
      rate: 100,
      durationMs: 500,
      warmupMs: 100,
      drainMs: 3000,
      connectRate: 0,
      workers: 2,
      maxCpu: 64,
    });
    equal(report.failure, null);
    const a = report.accounting;
    ok(a.linesSent >= 100, `only ${a.linesSent} lines sent`);
    deepEqual(
      [a.expected, a.delivered, a.lost, a.duplicated, a.reordered, a.echoed],
      [a.linesSent * 11, a.linesSent * 11, 0, 0, 0, 0],
    );
    deepEqual(
      report.generator.threads.map((t) => t.name),
      ["main thread", "worker 0", "worker 1"],
    );
    ok(report.generator.threads.slice(1).every((t) => (t.tid ?? 0) > 0));
    // Per-second figures add up to the window's.
    const offered = report.timeline.reduce((n, s) => n + s.offered, 0);
    equal(
      offered,
      Math.round(report.window.offeredLinesPerSecond * report.window.seconds),
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("a rate ramp against our server: each second offers more, on schedule, and all of it arrives", async () => {
  const server = serve({ port: 0, logger: quiet() });
  try {
    const report = await runLoad({
      port: server.addr.port,
      clients: 4,
      senders: 2,
      // 100 → 300 lines/s per sender over the first 2 s of the window.
      rate: { from: 100, to: 300, overMs: 2000, steps: 0 },
      durationMs: 2000,
      warmupMs: 0,
      drainMs: 3000,
      connectRate: 0,
      workers: 2,
      maxCpu: 64,
    });
    equal(report.failure, null);
    deepEqual(report.config.rateRamp, {
      from: 100,
      to: 300,
      overMs: 2000,
      steps: 0,
    });
    // Due in second 0: 2 × (100 + 200) / 2 = 300; in second 1: 2 × 250 = 500.
    const offered = report.timeline.map((s) => s.offered);
    ok(Math.abs(offered[0] - 300) <= 4, `second 0 offered ${offered[0]}`);
    ok(Math.abs(offered[1] - 500) <= 4, `second 1 offered ${offered[1]}`);
    const a = report.accounting;
    deepEqual([a.delivered, a.lost], [a.linesSent * 3, 0]);
  } finally {
    await server.shutdown();
  }
});

Deno.test("two workers in a closed loop: each sender's line limit is kept exactly", async () => {
  const server = serve({ port: 0, logger: quiet() });
  try {
    const report = await runLoad({
      port: server.addr.port,
      clients: 7,
      senders: 3,
      rate: 0,
      lines: 400,
      window: 32,
      durationMs: 10_000,
      warmupMs: 0,
      workers: 2,
      maxCpu: 64,
    });
    equal(report.failure, null);
    const a = report.accounting;
    deepEqual([a.linesSent, a.delivered, a.lost], [1200, 7200, 0]);
    equal(report.latency.corrected.count, 7200);
  } finally {
    await server.shutdown();
  }
});

Deno.test("WebSocket and TCP clients in one room, spread round-robin: every line arrives", async () => {
  const server = serve({ port: 0, httpPort: 0, logger: quiet() });
  try {
    const report = await runLoad({
      kind: "ws",
      port: server.httpAddr!.port,
      extraTargets: [{ port: server.addr.port }],
      clients: 6,
      senders: 2,
      rate: 0,
      lines: 200,
      durationMs: 10_000,
      warmupMs: 0,
      slowConsumers: 1,
      maxCpu: 64,
    });
    equal(report.failure, null);
    match(
      report.config.target,
      /^ws:\/\/127\.0\.0\.1:\d+\/ws 127\.0\.0\.1:\d+$/,
    );
    deepEqual(
      [report.accounting.delivered, report.accounting.lost],
      [2000, 0],
    );
    deepEqual([report.accounting.malformed, report.accounting.foreign], [0, 0]);
    // Client 6, the slow consumer, is a WebSocket client that never reads.
    equal(report.slowConsumers.count, 1);
    ok(report.slowConsumers.bytesPending > 400 * 60);
  } finally {
    await server.shutdown();
  }
});

testWithTools("a TLS target with a private CA, and lines from a payload file", [
  "openssl",
], async () => {
  await using certificate = await throwawayCertificate();
  const server = serve({
    port: 0,
    tls: { cert: certificate.cert, key: certificate.key },
    logger: quiet(),
  });
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, "short\r\na longer line, with ünïcode\n\n");
    const report = await runLoad({
      kind: "tls",
      hostname: "localhost",
      port: server.addr.port,
      caCerts: [certificate.ca],
      payloadFile: file,
      clients: 3,
      senders: 1,
      rate: 0,
      lines: 30,
      durationMs: 10_000,
      warmupMs: 0,
      maxCpu: 64,
    });
    equal(report.failure, null);
    deepEqual(
      [report.accounting.delivered, report.accounting.malformed],
      [60, 0],
    );
    deepEqual(
      [report.config.payloadLines, report.config.payloadMeanBytes],
      [3, 11.3], // 5, 29 (ü and ï are 2 bytes each) and 0 bytes
    );
  } finally {
    await Deno.remove(file);
    await server.shutdown();
  }
});

testWithTools(
  "a TLS target whose CA is not trusted: the failure says so and names --ca",
  [
    "openssl",
  ],
  async () => {
    await using certificate = await throwawayCertificate();
    const server = serve({
      port: 0,
      httpPort: 0,
      tls: { cert: certificate.cert, key: certificate.key },
      logger: quiet(),
    });
    try {
      for (
        const [kind, port] of [
          ["tls", server.addr.port],
          ["wss", server.httpAddr!.port],
        ] as const
      ) {
        const report = await runLoad({
          kind,
          hostname: "localhost",
          port,
          clients: 3,
          durationMs: 200,
          warmupMs: 0,
        });
        equal(report.connect.connected, 0);
        match(
          report.failure ?? "",
          /^(tls|wss):\/\/localhost:\d+(\/ws)?: TLS handshake failed: .*UnknownIssuer.*--ca FILE/,
        );
      }
    } finally {
      await server.shutdown();
    }
  },
);
