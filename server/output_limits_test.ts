// PROTOCOL.md §4.6, §4.10, §4.11: pending output is bounded by what it
// really costs, per client and in total, and by time.

import { equal, ok } from "node:assert/strict";
import { BATCH_OVERHEAD_BYTES } from "./batch.ts";
import { MERGE_CHUNK_BYTES } from "./outbound_queue.ts";
import {
  fakeServer,
  spawnFlooder,
  startServer,
  transportTest,
  waitFor,
} from "./_testing.ts";

function disconnects(log: string[]) {
  return log.map((line) => JSON.parse(line)).filter((event) =>
    event.event === "disconnect"
  );
}

Deno.test("§4.10 tiny lines to a blocked client are charged their overhead, not just their bytes", async () => {
  const maxPendingBytes = 64 * 1024;
  const { server, log, connect } = fakeServer({
    maxPendingBytes,
    maxLineBytes: 1024,
  });
  const blocked = connect();
  blocked.blocked = true;
  const sender = connect();
  let sent = 0;
  // Counting payload alone, 13,000 of these would fit in the bound.
  while (!blocked.closed && sent < 20_000) {
    sender.send("abc\n");
    sent++;
  }
  equal(blocked.closed, true);
  const limit = maxPendingBytes / (5 + BATCH_OVERHEAD_BYTES);
  ok(sent <= limit + 2, `cut after ${sent} lines, not about ${limit}`);
  const [cut] = disconnects(log);
  equal(cut.reason, "slow-consumer");
  equal(cut.limit, "max-pending-bytes");
  equal(server.stats.slowConsumers["max-pending-bytes"], 1);
  equal(sender.closed, false);
  equal(server.ledger.total, 0, "the cut client's output is released");
  await server.shutdown();
});

Deno.test("§4.10 a stalled client's tiny batches are merged: its queue does not grow with the line count", async () => {
  const { server, connect } = fakeServer({
    senderWaitMs: 50,
    writeTimeoutMs: 200,
    maxPendingBytes: 16 * 1024 * 1024,
  });
  const blocked = connect();
  blocked.blocked = true;
  const sender = connect();
  const client = [...server.room.members()][0];
  sender.send("first\n");
  await waitFor(() => server.stats.outputStalls === 1, "the stall", 2000);
  for (let i = 0; i < 10_000; i++) sender.send("abc\n");
  ok(
    client.queueLength <= Math.ceil(50_000 / MERGE_CHUNK_BYTES) + 1,
    `${client.queueLength} entries for 10,000 lines`,
  );
  ok(
    client.pendingCost < 50_000 * 1.1 + 64 * 1024,
    `cost ${client.pendingCost} for 50,000 bytes`,
  );
  equal(sender.paused, false, "a stalled client holds no sender back");
  // §4.11: still blocked at the write timeout, it is cut.
  await waitFor(() => blocked.closed, "the write timeout", 2000);
  equal(server.stats.slowConsumers["write-timeout"], 1);
  await server.shutdown();
});

Deno.test("§4.10 over the total bound, the clients holding the most are cut first", async () => {
  const { server, log, connect } = fakeServer({
    maxPendingBytes: 2 * 1024 * 1024,
    maxTotalPendingBytes: 2 * 1024 * 1024,
    senderWindowBytes: 64 * 1024 * 1024,
  });
  const big = [connect(), connect(), connect()];
  const sender = connect();
  for (const transport of big) transport.blocked = true;
  const line = "x".repeat(64 * 1024 - 3) + "\n";
  for (let i = 0; i < 10; i++) sender.send(line);
  equal(disconnects(log).length, 0, "2 MiB not reached yet");
  // One more non-reader joins late, so it holds the least.
  const late = connect();
  late.blocked = true;
  for (let i = 0; i < 2; i++) sender.send(line);
  const cuts = disconnects(log);
  equal(cuts.length, 1, "one cut brings the total under 90 %");
  equal(cuts[0].limit, "max-total-pending-bytes");
  equal(late.closed, false, "the smallest holder is spared");
  ok(server.ledger.total <= 0.9 * 2 * 1024 * 1024, `${server.ledger.total}`);
  const fired = log.map((line) => JSON.parse(line)).find((event) =>
    event.event === "output-limit"
  );
  equal(fired?.clients_cut, 1);
  equal(server.stats.slowConsumers["max-total-pending-bytes"], 1);
  await server.shutdown();
});

transportTest(
  "§4.10 §4.11 tiny lines to clients that stopped reading: they are cut, and memory stays bounded",
  async (transport) => {
    const maxPendingBytes = 256 * 1024;
    await using t = await startServer({
      transport,
      maxPendingBytes,
      writeTimeoutMs: 2000,
    });
    const idle = await Promise.all(
      Array.from(
        { length: 20 },
        () => Deno.connect({ hostname: "127.0.0.1", port: t.port }),
      ),
    );
    await waitFor(() => t.server.clientCount === 20, "20 non-readers");
    let peakCost = 0;
    let peakQueue = 0;
    const sample = setInterval(() => {
      peakCost = Math.max(peakCost, t.server.ledger.total);
      for (const client of t.server.room.members()) {
        peakQueue = Math.max(peakQueue, client.queueLength);
      }
    }, 5);
    // Two chatters, each in its own process, write 3-byte lines one per
    // write, as fast as they can, until the non-readers are gone.
    const chatters = [1, 2].map(() => spawnFlooder(t.port, 15_000, "abc\n", 1));
    await waitFor(
      () => t.server.stats.closes["slow-consumer"] === 20,
      "all 20 non-readers cut",
      15_000,
    ).catch(async (error) => {
      // Say what the server and the chatters were doing when it timed out.
      const chatted = await Promise.race([
        Promise.all(chatters).then((out) => out.join(", ")),
        new Promise((resolve) => setTimeout(resolve, 200, "still chatting")),
      ]);
      throw new Error(
        `${error.message}: closes ${JSON.stringify(t.server.stats.closes)}, ` +
          `pending cost ${t.server.ledger.total}, chatters: ${chatted}`,
      );
    });
    clearInterval(sample);
    const slack = 20 * (64 * 1024 + BATCH_OVERHEAD_BYTES); // one write each
    ok(
      peakCost <= 20 * maxPendingBytes + slack,
      `peak pending cost ${peakCost}`,
    );
    ok(peakQueue < 10_000, `a queue reached ${peakQueue} entries`);
    for (const conn of idle) conn.close();
    // The chatters were never cut; end them.
    for (const client of t.server.room.members()) client.close("shutdown");
    await Promise.all(chatters);
  },
);

Deno.test("with writeCoalesceMs, a busy client's next write gathers what came meanwhile; an idle one writes at once", async () => {
  for (const coalesce of [0, 20]) {
    const { server, connect } = fakeServer({ writeCoalesceMs: coalesce });
    const reader = connect();
    const sender = connect();
    // Writes complete only when the test says so.
    const pending: (() => void)[] = [];
    reader.write = (bytes) => {
      reader.written.push(bytes.slice());
      return new Promise((resolve) =>
        pending.push(() => resolve(bytes.length))
      );
    };
    const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
    sender.send("a\n");
    await tick();
    equal(reader.written.length, 1, "the first line goes at once");
    sender.send("b\n");
    sender.send("c\n");
    pending.shift()!();
    await tick();
    if (coalesce === 0) {
      equal(reader.written.length, 2, "without coalescing: at once");
    } else {
      equal(reader.written.length, 1, "busy: waits to gather more");
      sender.send("d\n");
      await new Promise((resolve) => setTimeout(resolve, coalesce + 10));
      equal(reader.written.length, 2);
      equal(new TextDecoder().decode(reader.written[1]), "b\r\nc\r\nd\r\n");
    }
    for (const resolve of pending.splice(0)) resolve();
    await server.shutdown();
  }
});
