import { deepEqual, equal } from "node:assert/strict";
import { type Writer, WriteScheduler } from "./write_scheduler.ts";

/** A writer whose writes settle when the test says so. */
function writer(log: number[], id: number, settle: Promise<void> | null) {
  return {
    writeNext: () => {
      log.push(id);
      return settle;
    },
  } satisfies Writer;
}

Deno.test("one microtask starts the writes of everyone added in a turn", async () => {
  const started: number[] = [];
  const scheduler = new WriteScheduler({ writesPerTurn: 8 });
  for (let id = 0; id < 5; id++) {
    scheduler.add(writer(started, id, Promise.resolve()));
  }
  deepEqual(started, [], "nothing starts while the fan-out is running");
  await Promise.resolve();
  deepEqual(started, [0, 1, 2, 3, 4]);
  equal(scheduler.waiting, 0);
  await scheduler.idle();
});

Deno.test("no more than writesPerTurn writes start before the event loop turns", async () => {
  const started: number[] = [];
  const scheduler = new WriteScheduler({ writesPerTurn: 3 });
  // Writes that settle only in a later event-loop turn, as real ones do.
  const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
  for (let id = 0; id < 7; id++) scheduler.add(writer(started, id, nextTurn()));
  for (let i = 0; i < 10; i++) await Promise.resolve(); // microtasks only
  deepEqual(started, [0, 1, 2]);
  equal(scheduler.waiting, 4);
  await scheduler.idle();
  deepEqual(started, [0, 1, 2, 3, 4, 5, 6], "everyone, in the order added");
});

Deno.test("writers with nothing to write do not use the budget", async () => {
  const started: number[] = [];
  const scheduler = new WriteScheduler({ writesPerTurn: 3 });
  for (let id = 0; id < 6; id++) {
    scheduler.add(writer(started, id, id % 3 === 0 ? Promise.resolve() : null));
  }
  await Promise.resolve();
  deepEqual(started, [0, 1, 2, 3, 4, 5], "two writes of three allowed");
  equal(scheduler.waiting, 0);
});

Deno.test("a slice whose writes never settle (full sockets) does not stall the rest", async () => {
  const started: number[] = [];
  const scheduler = new WriteScheduler({ writesPerTurn: 2 });
  const never = new Promise<void>(() => {});
  for (let id = 0; id < 5; id++) scheduler.add(writer(started, id, never));
  await scheduler.idle();
  deepEqual(started, [0, 1, 2, 3, 4]);
});

Deno.test("a failed write counts as the event loop having turned", async () => {
  const started: number[] = [];
  const scheduler = new WriteScheduler({ writesPerTurn: 1 });
  const failed = Promise.reject(new Error("EPIPE"));
  failed.catch(() => {});
  for (let id = 0; id < 3; id++) scheduler.add(writer(started, id, failed));
  await scheduler.idle();
  deepEqual(started, [0, 1, 2]);
});

Deno.test("a writer may be added again once its write settled", async () => {
  const started: number[] = [];
  const scheduler = new WriteScheduler({ writesPerTurn: 4 });
  const again = writer(started, 1, Promise.resolve());
  scheduler.add(again);
  await scheduler.idle();
  scheduler.add(again);
  await scheduler.idle();
  deepEqual(started, [1, 1]);
});
