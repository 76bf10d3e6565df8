import { deepEqual, equal } from "node:assert/strict";
import { Batch } from "../server/batch.ts";
import { SenderWindow } from "../server/sender_window.ts";
import { entrySize } from "./message.ts";
import {
  type BacklogDropReason,
  type BacklogEntry,
  PublishBacklog,
} from "./publish_backlog.ts";

/** A backlog with a settable clock that records what it drops. */
function backlog(maxBytes: number, maxDelayMs = 2000) {
  const clock = { now: 1_000_000 };
  const dropped: [number, BacklogDropReason][] = [];
  const queue = new PublishBacklog({
    maxBytes,
    maxDelayMs,
    now: () => clock.now,
    onDrop: (entry, reason) => dropped.push([entry.lineMark, reason]),
  });
  let mark = 0;
  const push = (senderId: number, bytes = 76, at = clock.now) =>
    queue.push({
      completedAt: at,
      senderId,
      lineCount: 1,
      lineMark: ++mark,
      batch: new Uint8Array(bytes), // 100 bytes queued by default
    });
  return { clock, dropped, queue, push };
}

const marks = (entries: BacklogEntry[]) => entries.map((e) => e.lineMark);

Deno.test("backlog: batches leave in arrival order, as many as fit in a message", () => {
  const { queue, push } = backlog(10_000);
  for (let i = 0; i < 5; i++) push(i % 2);
  equal(queue.length, 5);
  equal(queue.bytes, 500);
  deepEqual(marks(queue.take(250)), [1, 2]);
  deepEqual(marks(queue.take(50)), [3], "one at least, even if larger");
  deepEqual(marks(queue.take(10_000)), [4, 5]);
  deepEqual(queue.take(10_000), []);
  equal(queue.bytes, 0);
});

Deno.test("backlog full: a sender at or under an equal share never loses lines to a flooder", () => {
  const { queue, push, dropped } = backlog(1000);
  // A flooder fills the backlog (marks 1–10).
  for (let i = 0; i < 10; i++) push(1);
  equal(push(1), false, "the flooder holds the most: its new batch goes");
  deepEqual(dropped, [[11, "full"]]);
  // Two paced senders get in, each pushing out the flooder's oldest.
  equal(push(2), true);
  equal(push(3), true);
  deepEqual(dropped.slice(1), [[1, "full"], [2, "full"]]);
  equal(queue.bytesOf(1), 800);
  // They keep their lines while they hold less than the flooder.
  for (let i = 0; i < 2; i++) {
    equal(push(2), true);
    equal(push(3), true);
  }
  deepEqual([1, 2, 3].map((id) => queue.bytesOf(id)), [400, 300, 300]);
  equal(push(2), false, "with it, sender 2 would hold as much as sender 1");
  deepEqual([1, 2, 3].map((id) => queue.bytesOf(id)), [400, 300, 300]);
  const left = queue.take(10_000);
  equal(left.filter((e) => e.senderId !== 1).length, 6, "no paced line lost");
});

Deno.test("backlog full: the heaviest sender loses its oldest batches first", () => {
  const { push, dropped } = backlog(1000);
  for (let i = 0; i < 6; i++) push(1); // marks 1–6
  for (let i = 0; i < 4; i++) push(2); // marks 7–10
  push(3, 276); // needs 300 bytes: sender 1 (600) gives its 3 oldest
  deepEqual(dropped, [[1, "full"], [2, "full"], [3, "full"]]);
});

Deno.test("backlog: a batch larger than the whole backlog is dropped, the rest kept", () => {
  const { queue, push, dropped } = backlog(1000);
  push(1);
  equal(push(2, 2000), false);
  deepEqual(dropped, [[2, "full"]]);
  equal(queue.length, 1);
});

Deno.test("backlog: batches older than maxDelayMs are dropped, never taken", () => {
  const { clock, queue, push, dropped } = backlog(10_000, 500);
  push(1);
  clock.now += 300;
  push(2);
  equal(queue.nextExpiry, 1_000_000 + 500);
  clock.now += 201; // the first is 501 ms old, the second 201
  deepEqual(marks(queue.take(10_000)), [2]);
  deepEqual(dropped, [[1, "expired"]]);
  push(1);
  clock.now += 501;
  equal(queue.expire(), 1);
  equal(queue.length, 0);
  equal(queue.nextExpiry, undefined);
});

Deno.test("backlog: clear drops everything", () => {
  const { queue, push, dropped } = backlog(10_000);
  push(1);
  push(2);
  queue.clear();
  deepEqual(dropped, [[1, "cleared"], [2, "cleared"]]);
  equal(queue.bytes, 0);
  equal(queue.bytesOf(1), 0);
});

Deno.test("§4.9 backlog: a queued batch holds its sender back until taken and released, or dropped", () => {
  const events: string[] = [];
  const window = new SenderWindow({
    limitBytes: 100,
    onPause: () => events.push("pause"),
    onResume: () => events.push("resume"),
  });
  const queue = new PublishBacklog({ maxBytes: 10_000 });
  const entry = (batch: Batch, lineMark: number): BacklogEntry => ({
    completedAt: Date.now(),
    senderId: 1,
    lineCount: 1,
    lineMark,
    batch: batch.bytes,
    held: batch,
  });
  const first = new Batch(new Uint8Array(60), 1, window);
  first.hold();
  queue.push(entry(first, 1));
  const second = new Batch(new Uint8Array(60), 1, window);
  second.hold();
  queue.push(entry(second, 2));
  window.check();
  deepEqual(events, ["pause"], "held by the backlog: over the window");
  const [taken] = queue.take(entrySize(first.bytes));
  queue.clear(); // the second is dropped: released at once
  deepEqual(events, ["pause"], "the first is still held (its PUBLISH)");
  taken.held!.release();
  deepEqual(events, ["pause", "resume"]);
  window.close();
});

Deno.test("backlog: steady traffic, never empty, stays consistent as its arrays are compacted", () => {
  const { queue, push } = backlog(1_000_000);
  push(1);
  for (let i = 0; i < 50_000; i++) {
    push(1 + (i % 3));
    queue.take(100);
  }
  equal(queue.length, 1);
});
