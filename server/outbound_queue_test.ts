import { deepEqual, equal } from "node:assert/strict";
import { Batch, BATCH_OVERHEAD_BYTES } from "./batch.ts";
import {
  MERGE_CHUNK_BYTES,
  MERGE_MAX_BYTES,
  OutboundQueue,
} from "./outbound_queue.ts";
import { SenderWindow } from "./sender_window.ts";

const batch = (...bytes: number[]) => new Batch(Uint8Array.from(bytes), 1);

/** Queues `batch` as the room does: held for the length of the fan-out. */
function relay(queue: OutboundQueue, batch: Batch): void {
  batch.hold();
  queue.push(batch);
  batch.release();
}

/** A window that records whether its sender is paused. */
function senderWindow(limitBytes: number) {
  const state = { paused: false };
  const window = new SenderWindow({
    limitBytes,
    waitMs: 60_000,
    onPause: () => state.paused = true,
    onResume: () => state.paused = false,
  });
  return { window, state };
}

Deno.test("take() hands a lone batch over uncopied", () => {
  const queue = new OutboundQueue();
  const one = batch(1, 2, 3);
  queue.push(one);
  equal(queue.take(1), one.bytes);
  equal(queue.take(1), null);
});

Deno.test("take() coalesces batches up to maxBytes, in order", () => {
  const queue = new OutboundQueue();
  for (let i = 0; i < 5; i++) queue.push(batch(i, i));
  deepEqual(queue.take(6), Uint8Array.of(0, 0, 1, 1, 2, 2));
  deepEqual(queue.take(6), Uint8Array.of(3, 3, 4, 4));
  equal(queue.isEmpty, true);
});

Deno.test("pendingBytes counts queued and in-flight bytes until written", () => {
  const queue = new OutboundQueue();
  queue.push(new Batch(new Uint8Array(10), 1));
  queue.push(new Batch(new Uint8Array(5), 1));
  queue.take(100);
  equal(queue.pendingBytes, 15);
  queue.written(9);
  equal(queue.pendingBytes, 6);
  queue.push(new Batch(new Uint8Array(4), 1));
  equal(queue.pendingBytes, 10);
  queue.clear();
  equal(queue.pendingBytes, 0);
});

Deno.test("§4.10 cost charges each queued batch its overhead, and the ledger sums queues", () => {
  const ledger = { total: 0 };
  const a = new OutboundQueue({ ledger });
  const b = new OutboundQueue({ ledger });
  for (let i = 0; i < 100; i++) a.push(batch(1, 2, 3));
  b.push(batch(1));
  equal(a.cost, 100 * (3 + BATCH_OVERHEAD_BYTES));
  equal(ledger.total, a.cost + b.cost);
  const out = a.take(1 << 20)!;
  equal(ledger.total, a.cost + b.cost, "in flight still costs");
  a.written(out.length);
  b.clear();
  equal(a.cost, 0);
  equal(ledger.total, 0);
});

Deno.test("§4.9 a queued batch holds its sender until it is taken", () => {
  const { window, state } = senderWindow(BATCH_OVERHEAD_BYTES + 1);
  const queue = new OutboundQueue();
  relay(queue, new Batch(Uint8Array.of(1), 1, window));
  window.check();
  equal(state.paused, true);
  queue.take(1024);
  equal(state.paused, false);
  window.close();
});

Deno.test("§4.9 clear() releases what the queue held", () => {
  const { window, state } = senderWindow(BATCH_OVERHEAD_BYTES + 1);
  const queue = new OutboundQueue();
  relay(queue, new Batch(Uint8Array.of(1), 1, window));
  window.check();
  queue.clear();
  equal(state.paused, false);
  window.close();
});

Deno.test("§4.10 detach() releases the sender and merges tiny batches into chunks", () => {
  const { window, state } = senderWindow(1000 * BATCH_OVERHEAD_BYTES);
  const queue = new OutboundQueue();
  const expected: number[] = [];
  for (let i = 0; i < 2000; i++) {
    relay(queue, new Batch(Uint8Array.of(i & 0xff, 10), 1, window));
    expected.push(i & 0xff, 10);
  }
  window.check();
  equal(state.paused, true);
  equal(queue.length, 2000);
  queue.detach();
  equal(state.paused, false, "a detached queue holds no sender back");
  equal(queue.length, 1);
  for (let i = 0; i < 5000; i++) {
    relay(queue, new Batch(Uint8Array.of(7, 10), 1, window));
    expected.push(7, 10);
  }
  equal(window.outstanding, 0, "batches queued while detached are not held");
  equal(queue.length, Math.ceil(expected.length / MERGE_CHUNK_BYTES));
  equal(queue.pendingBytes, expected.length);
  equal(
    queue.cost,
    queue.length * (MERGE_CHUNK_BYTES + BATCH_OVERHEAD_BYTES),
  );
  const got: number[] = [];
  for (let out; (out = queue.take(1 << 20)) !== null;) {
    got.push(...out);
    queue.written(out.length);
  }
  deepEqual(got, expected);
  equal(queue.cost, 0);
  window.close();
});

Deno.test("§4.10 a detached queue keeps large batches shared and in order", () => {
  const queue = new OutboundQueue();
  queue.detach();
  const large = new Batch(new Uint8Array(MERGE_MAX_BYTES + 1).fill(2), 1);
  queue.push(batch(1));
  queue.push(large);
  queue.push(batch(3));
  equal(queue.length, 3);
  equal(queue.take(1)![0], 1);
  equal(queue.take(1), large.bytes);
  equal(queue.take(1)![0], 3);
});

Deno.test("§4.9 attach() holds senders again for batches queued after it", () => {
  const { window, state } = senderWindow(BATCH_OVERHEAD_BYTES + 1);
  const queue = new OutboundQueue();
  queue.detach();
  relay(queue, new Batch(Uint8Array.of(1), 1, window));
  queue.attach();
  relay(queue, new Batch(Uint8Array.of(2), 1, window));
  window.check();
  equal(state.paused, true);
  queue.take(1);
  equal(state.paused, true, "the detached chunk held nothing");
  queue.take(1);
  equal(state.paused, false);
  window.close();
});

Deno.test("§6.2 framed queues share one framing per batch, and take and are charged its frames", () => {
  let framings = 0;
  // A stand-in for WebSocket framing: a 2-byte header before the lines.
  const frame = (lines: Uint8Array) => {
    framings++;
    return Uint8Array.of(0x81, lines.length, ...lines);
  };
  const ledger = { total: 0 };
  const a = new OutboundQueue({ frame, ledger });
  const b = new OutboundQueue({ frame, ledger });
  const plain = new OutboundQueue({ ledger });
  const lines = batch(0x68, 0x69, 0x0d, 0x0a);
  for (const queue of [a, b, plain]) relay(queue, lines);
  equal(framings, 1, "framed once for both framed queues");
  equal(a.pendingBytes, 6);
  equal(a.cost, 6 + BATCH_OVERHEAD_BYTES);
  equal(plain.cost, 4 + BATCH_OVERHEAD_BYTES);
  const framed = a.take(1024)!;
  deepEqual(framed, Uint8Array.of(0x81, 4, 0x68, 0x69, 0x0d, 0x0a));
  equal(b.take(1024), framed, "the same frames, uncopied");
  deepEqual(plain.take(1024), lines.bytes);
  a.written(6);
  b.written(6);
  plain.written(4);
  equal(ledger.total, 0);
});
