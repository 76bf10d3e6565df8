import { deepEqual, equal } from "node:assert/strict";
import { Logger } from "../../server/logger.ts";
import { serve } from "../../server/chat_server.ts";
import { LineSplitter } from "../../protocol/line_splitter.ts";
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

Deno.test("lost, duplicated, reordered and echoed lines are each counted", async () => {
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
    });
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
});

Deno.test("a refused connection fails the run instead of hanging", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const report = await runLoad({ port, clients: 3, durationMs: 100 });
  equal(report.connect.failed, 3);
  equal(report.failure?.includes("3 of 3 connections failed"), true);
});
