import { deepEqual, equal, ok } from "node:assert/strict";
import { RunClock } from "./clock.ts";
import { StreamConnection } from "./connection.ts";
import { JoinDetector } from "./join.ts";
import { PayloadEncoder } from "./payload.ts";
import { ReceiverSet, SlowConsumers } from "./receivers.ts";
import { tcpPairs, until } from "./_testing.ts";

const TAG = "rx01";

function receiverSet(
  clock: RunClock,
  window = { startUs: 0, endUs: Infinity },
) {
  let reads = 0;
  const set = new ReceiverSet({
    tag: TAG,
    size: 48,
    senders: 2,
    clock,
    window,
    join: new JoinDetector(TAG),
    phase: () => "run",
    readBufferBytes: 4096,
    maxLineBytes: 1024,
    onRead: () => reads++,
  });
  return { set, reads: () => reads };
}

/** Payload lines of `sender`, `seqs` in that order. */
function lines(sender: number, seqs: number[], sentUs: number): Uint8Array {
  const encoder = new PayloadEncoder(TAG, 48);
  const batch = new Uint8Array(encoder.maxBatchBytes(seqs.length));
  let offset = 0;
  for (const seq of seqs) {
    offset = encoder.encodeInto(batch, offset, sender, seq, sentUs, sentUs);
  }
  return batch.subarray(0, offset);
}

Deno.test("receivers count each delivery once, and tell duplicates, reordering, echoes and strangers apart", async () => {
  const clock = new RunClock();
  const { set, reads } = receiverSet(clock);
  const { pairs, close } = await tcpPairs(3);
  try {
    for (const { near } of pairs) set.add(new StreamConnection(near));
    const text = (s: string) => new TextEncoder().encode(s);
    // Receiver 2 hears sender 0's lines 0, 2, 1, 1 and sender 1's 0.
    await pairs[2].far.write(lines(0, [0, 2, 1, 1], clock.nowUs()));
    await pairs[2].far.write(lines(1, [0], clock.nowUs()));
    // Receiver 0 gets its own line back, a banner, a cut line and a
    // payload of a sender that does not exist.
    await pairs[0].far.write(lines(0, [0], clock.nowUs()));
    await pairs[0].far.write(text(`welcome\n${TAG}:0:1:2\n`));
    await pairs[0].far.write(lines(7, [0], clock.nowUs()));
    ok(
      await until(() => set.tally.delivered === 4 && set.tally.malformed === 2),
    );
    const tally = set.tally.summary();
    deepEqual(
      [tally.delivered, tally.duplicated, tally.reordered, tally.echoed],
      [4, 1, 1, 1],
    );
    deepEqual([tally.foreign, tally.malformed], [1, 2]);
    deepEqual([...set.tally.bySender], [3, 1]);
    ok(reads() >= 2);
  } finally {
    close();
    await set.close();
  }
  equal(set.disconnectTotal, 0, "closed by us: not a disconnect");
  equal(set.allGone, true);
});

Deno.test("only lines sent inside the window are timed; deliveries inside it are counted", async () => {
  const clock = new RunClock();
  const window = { startUs: Infinity, endUs: Infinity };
  const { set } = receiverSet(clock, window);
  const { pairs, close } = await tcpPairs(2);
  try {
    for (const { near } of pairs) set.add(new StreamConnection(near));
    await pairs[1].far.write(lines(0, [0, 1], clock.nowUs()));
    ok(await until(() => set.tally.delivered === 2));
    window.startUs = clock.nowUs();
    await pairs[1].far.write(lines(0, [2, 3, 4], clock.nowUs()));
    ok(await until(() => set.tally.delivered === 5));
  } finally {
    close();
    await set.close();
  }
  const tally = set.tally.summary();
  equal(tally.windowDelivered, 3);
  equal(tally.corrected.count, 3);
  equal(tally.uncorrected.count, 3);
});

Deno.test("a client the server closes is a disconnect of the phase it happened in", async () => {
  const { set } = receiverSet(new RunClock());
  const { pairs, close } = await tcpPairs(2);
  set.add(new StreamConnection(pairs[0].near));
  set.add(new StreamConnection(pairs[1].near));
  pairs[1].far.close();
  ok(await until(() => set.gone === 1));
  close();
  await set.close();
  deepEqual([set.disconnectTotal, set.disconnects], [1, { run: 1 }]);
});

Deno.test("slow consumers: what waited for them is read at the end, and who was closed", async () => {
  const slow = new SlowConsumers();
  const { pairs, close } = await tcpPairs(2);
  for (const { near } of pairs) slow.add(new StreamConnection(near));
  await pairs[0].far.write(new Uint8Array(1000));
  pairs[1].far.close();
  deepEqual(await slow.collect(1000), { closed: 1, bytes: 1000 });
  equal(slow.count, 2);
  slow.close();
  close();
});
