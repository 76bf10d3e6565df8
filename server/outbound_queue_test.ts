import { deepEqual, equal } from "node:assert/strict";
import { OutboundQueue } from "./outbound_queue.ts";

Deno.test("take() hands a lone batch over uncopied", () => {
  const queue = new OutboundQueue();
  const batch = Uint8Array.of(1, 2, 3);
  queue.push(batch);
  equal(queue.take(1), batch);
  equal(queue.take(1), null);
});

Deno.test("take() coalesces batches up to maxBytes, in order", () => {
  const queue = new OutboundQueue();
  for (let i = 0; i < 5; i++) queue.push(Uint8Array.of(i, i));
  deepEqual(queue.take(6), Uint8Array.of(0, 0, 1, 1, 2, 2));
  deepEqual(queue.take(6), Uint8Array.of(3, 3, 4, 4));
  equal(queue.isEmpty, true);
});

Deno.test("pendingBytes counts queued and in-flight bytes until written", () => {
  const queue = new OutboundQueue();
  queue.push(new Uint8Array(10));
  queue.push(new Uint8Array(5));
  queue.take(100);
  equal(queue.pendingBytes, 15);
  queue.written(9);
  equal(queue.pendingBytes, 6);
  queue.push(new Uint8Array(4));
  equal(queue.pendingBytes, 10);
  queue.clear();
  equal(queue.pendingBytes, 0);
});
