import { equal, ok } from "node:assert/strict";
import { RunClock } from "./clock.ts";
import { StreamConnection } from "./connection.ts";
import { PayloadDecoder, PayloadEncoder } from "./payload.ts";
import { SenderSet } from "./senders.ts";
import { tcpPairs } from "./_testing.ts";
import { LineSplitter } from "../../protocol/line_splitter.ts";

const TAG = "tx01";

/** Counts the payload lines arriving on `conn`, per sender. */
function counter(conn: Deno.TcpConn) {
  const decoder = new PayloadDecoder(TAG);
  const splitter = new LineSplitter();
  const seen: number[] = [];
  const done = (async () => {
    for await (const chunk of conn.readable) {
      splitter.pushSpans(chunk, (bytes, start, end) => {
        if (decoder.decodeSpan(bytes, start, end, 40) === "ok") {
          seen[decoder.sender] = (seen[decoder.sender] ?? 0) + 1;
        }
      });
    }
  })().catch(() => {});
  return { seen, done };
}

function senderSet(
  clock: RunClock,
  fields: { rate: number; lines?: number; inFlight?: number },
  delivered: (index: number) => number = () => 0,
) {
  return new SenderSet({
    encoder: new PayloadEncoder(TAG, 40),
    clock,
    window: { startUs: 0, endUs: Infinity },
    rate: fields.rate,
    lines: fields.lines ?? null,
    inFlight: fields.inFlight ?? 256,
    spinMs: 0,
    delivered,
  });
}

Deno.test("open loop: each sender's lines leave on schedule, all offered in the window", async () => {
  const clock = new RunClock();
  const senders = senderSet(clock, { rate: 200 });
  const { pairs, close } = await tcpPairs(2);
  const counts = pairs.map(({ far }) => counter(far));
  pairs.forEach(({ near }, i) => senders.add(i, new StreamConnection(near)));
  const start = performance.now();
  await senders.openLoop(start, start + 500);
  close();
  await Promise.all(counts.map((c) => c.done));
  const summary = senders.summary();
  // 2 senders × 200 lines/s × 0.5 s; timers make it about that.
  ok(
    summary.linesSent >= 150 && summary.linesSent <= 210,
    `${summary.linesSent}`,
  );
  equal(summary.windowOffered, summary.linesSent);
  ok(summary.firstSendUs >= 0);
  ok(summary.lag.count > 0);
  equal(counts[0].seen[0] + counts[1].seen[1], summary.linesSent);
});

Deno.test("open loop with a line limit stops each sender at it", async () => {
  const senders = senderSet(new RunClock(), { rate: 1000, lines: 7 });
  const { pairs, close } = await tcpPairs(1);
  senders.add(0, new StreamConnection(pairs[0].near));
  const start = performance.now();
  await senders.openLoop(start, start + 300);
  equal(senders.linesSent, 7);
  close();
});

Deno.test("closed loop: a sender keeps no more than its window in flight", async () => {
  let delivered = 0;
  const senders = senderSet(
    new RunClock(),
    { rate: 0, inFlight: 10 },
    () => delivered,
  );
  const { pairs, close } = await tcpPairs(1);
  senders.add(0, new StreamConnection(pairs[0].near));
  // Nothing is delivered at first: it sends one window and waits.
  const first = senders.closedLoop(performance.now() + 300, 3);
  await new Promise((resolve) => setTimeout(resolve, 100));
  equal(senders.linesSent, 10);
  // Half the window arrived at 3 receivers: it refills.
  delivered = 15;
  senders.wake();
  await first;
  equal(senders.linesSent, 15);
  close();
});
