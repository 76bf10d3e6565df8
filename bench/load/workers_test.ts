import { deepEqual, equal } from "node:assert/strict";
import { autoWorkers } from "./options.ts";
import { StatusBoard } from "./workers.ts";

Deno.test("the status board: the phase, live counts and deliveries per sender, seen from another thread's view", () => {
  const board = new StatusBoard(3, 2);
  const worker = StatusBoard.attach(board.buffer, 3, 2);
  board.phase = "drain";
  equal(worker.phase, "drain");
  worker.bySender(0)[1] = 10;
  worker.bySender(2)[1] = 5;
  worker.bySender(1)[0] = 7;
  deepEqual([board.delivered(0), board.delivered(1)], [7, 15]);
  const status = {
    connected: 4,
    receivers: 3,
    joined: 3,
    gone: 0,
    delivered: 22,
    linesSent: 9,
    lastProbeEpochMs: 1.5e12,
    spinMs: 0,
    lastDeliveryUs: 123,
    p99Ms: 4.5,
  };
  worker.publish(2, status);
  deepEqual(board.status(2), status);
  equal(board.status(0).delivered, 0);
});

Deno.test("a waiting sender is woken when another worker counts deliveries", async () => {
  const board = new StatusBoard(2, 1);
  // An Atomics.waitAsync does not keep the event loop alive by itself (a
  // worker's sockets and timers do).
  const alive = setInterval(() => {}, 50);
  try {
    const started = performance.now();
    const waiting = board.deliveries(5000);
    board.deliveriesCounted();
    await waiting;
    // Woken, not timed out (a generous bound: no timing is asserted).
    equal(performance.now() - started < 4000, true);
    await board.deliveries(1); // nobody counts: it gives up by itself
  } finally {
    clearInterval(alive);
  }
});

Deno.test("--workers auto leaves a core to the server, at most 8", () => {
  deepEqual(
    [autoWorkers(1), autoWorkers(2), autoWorkers(4), autoWorkers(64)],
    [1, 1, 3, 8],
  );
  equal(autoWorkers(16, 3), 1, "not more than one per two clients");
});
