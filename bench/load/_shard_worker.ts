// One worker of `deno task load --workers N`: it runs one shard of the
// clients (shard.ts) and answers the main thread's calls (workers.ts).
// Its receivers count deliveries per sender straight into its row of the
// shared status board and bump its delivery generation after each read;
// its live counts are copied there every 2 ms and its p99 once a second;
// its closed-loop senders add up every worker's row, and while they wait
// are woken by a new generation (Atomics.waitAsync), at the latest after
// a millisecond.

/// <reference lib="deno.worker" />

import { LoadShard } from "./shard.ts";
import {
  CLOSED_LOOP_POLL_MS,
  PUBLISH_INTERVAL_MS,
  StatusBoard,
  type WorkerReply,
  type WorkerRequest,
} from "./workers.ts";

let shard: LoadShard | undefined;
let board: StatusBoard | undefined;
let index = 0;
let p99Ms = 0;
const timers: ReturnType<typeof setInterval>[] = [];

function post(reply: WorkerReply): void {
  self.postMessage(reply);
}

function publish(): void {
  if (!shard || !board) return;
  board.publish(index, { ...shard.status(), p99Ms });
}

/** This thread's id, for the main thread to read its CPU time. */
function threadId(): number | undefined {
  try {
    return Number(Deno.readLinkSync("/proc/thread-self").split("/").pop());
  } catch {
    return undefined; // Not Linux.
  }
}

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  if (request.type === "init") {
    index = request.config.index;
    board = StatusBoard.attach(
      request.buffer,
      request.workers,
      request.config.senders,
    );
    const shared = board;
    shard = new LoadShard(request.config, {
      bySender: shared.bySender(index),
      delivered: (sender) => shared.delivered(sender),
      phase: () => shared.phase,
      onRead: () => shared.deliveriesCounted(),
      deliveries: () => shared.deliveries(CLOSED_LOOP_POLL_MS),
    });
    timers.push(setInterval(publish, PUBLISH_INTERVAL_MS));
    timers.push(setInterval(() => {
      p99Ms = shard?.p99Ms() ?? 0;
    }, 1000));
    post({ type: "ready", tid: threadId() });
    return;
  }
  const { id, method, args } = request;
  try {
    const s = shard!;
    let value: unknown;
    if (method === "connect") {
      value = await s.connect(args[0] as Parameters<LoadShard["connect"]>[0]);
    } else if (method === "probe") {
      await s.probe(args[0] as number[]);
    } else if (method === "nudge") await s.nudge(args[0] as number);
    else if (method === "setWindow") {
      s.setWindow(args[0] as number, args[1] as number);
    } else if (method === "send") {
      await s.send(args[0] as Parameters<LoadShard["send"]>[0]);
    } else {
      value = await s.finish();
      for (const timer of timers) clearInterval(timer);
    }
    publish();
    post({ type: "reply", id, value });
  } catch (error) {
    post({
      type: "reply",
      id,
      error: error instanceof Error ? error.message : String(error),
    });
  }
};
