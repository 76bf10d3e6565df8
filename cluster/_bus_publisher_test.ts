// The publisher's batching, flood control, and accounting of every line
// it does not publish, against a fake Redis connection: no Redis.

import { deepEqual, equal, ok } from "node:assert/strict";
import { Batch } from "../server/batch.ts";
import { SenderWindow } from "../server/sender_window.ts";
import { BusPublisher } from "./_bus_publisher.ts";
import { captureLogger, delay, type LoggedEvent } from "./_testing.ts";
import { BusStats } from "./bus_stats.ts";
import {
  type BusMessage,
  decodeMessage,
  ENTRY_HEADER_BYTES,
  HEADER_BYTES,
} from "./message.ts";
import {
  type RedisBusOptions,
  resolveRedisBusOptions,
} from "./redis_bus_options.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A batch of one line, `text`, charged to `window` if given. */
const line = (text: string, window: SenderWindow | null = null) =>
  new Batch(encoder.encode(`${text}\r\n`), 1, window);

/** The lines of a published message, as text. */
const texts = (message: BusMessage) =>
  message.entries.map((entry) => decoder.decode(entry.batch).trimEnd());

/**
 * A publisher whose Redis is a fake: what it PUBLISHes is decoded into
 * `sent`, and each PUBLISH waits until the test `answer`s or `fail`s it.
 * Disposing it stops it and closes its reports.
 */
function publisher(options: Partial<RedisBusOptions> = {}) {
  const { logger, events } = captureLogger();
  const stats = new BusStats();
  const sent: BusMessage[] = [];
  const replies: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const link = {
    down: false,
    /** Lines the link was told of while down. */
    outageLines: 0,
    publish(_channel: string, message: Uint8Array): Promise<unknown> {
      sent.push(decodeMessage(message));
      return new Promise<void>((resolve, reject) =>
        replies.push({ resolve, reject })
      );
    },
    countUnpublished(lines: number) {
      if (link.down) link.outageLines += lines;
    },
  };
  let closing = false;
  const bus = new BusPublisher({
    ...resolveRedisBusOptions({ url: "redis://127.0.0.1", logger, ...options }),
    stats,
    link,
    closing: () => closing,
  });
  return {
    bus,
    stats,
    link,
    sent,
    /** Events named `event`, after the reports owed are written. */
    logged(event: string): LoggedEvent[] {
      bus.closeReports();
      return events.filter((e) => e.event === event);
    },
    /** Redis answers the oldest unanswered PUBLISH; a turn passes. */
    async answer(): Promise<void> {
      replies.shift()!.resolve();
      await delay(0);
    },
    /** Redis fails the oldest unanswered PUBLISH; a turn passes. */
    async fail(): Promise<void> {
      replies.shift()!.reject(new Error("connection lost"));
      await delay(0);
    },
    close() {
      closing = true;
    },
    [Symbol.dispose]() {
      bus.stop();
      bus.closeReports();
    },
  };
}

/** Lets the current turn of the event loop end (the flush runs). */
const turn = () => delay(0);

Deno.test("batches offered in one turn go out together in one PUBLISH, in order, when the turn ends", async () => {
  using p = publisher();
  p.bus.offer(1, line("a"));
  p.bus.offer(2, line("b"));
  p.bus.offer(1, line("c"));
  equal(p.sent.length, 0, "not before the turn ends");
  await turn();
  equal(p.sent.length, 1);
  deepEqual(texts(p.sent[0]), ["a", "b", "c"]);
  deepEqual(p.sent[0].entries.map((e) => e.senderId), [1, 2, 1]);
  deepEqual([p.sent[0].sequence, p.sent[0].lineMark], [0, 3]);
  equal(p.stats.messagesPublished, 0, "counted once Redis answers");
  await p.answer();
  deepEqual([p.stats.messagesPublished, p.stats.linesPublished], [1, 3]);
  ok(p.stats.bytesPublished > HEADER_BYTES + 3 * ENTRY_HEADER_BYTES);
  equal(p.bus.pending, false);
});

Deno.test("at most maxInFlight PUBLISH await Redis; batches offered meanwhile go out together after", async () => {
  using p = publisher({ maxInFlight: 1 });
  p.bus.offer(1, line("a"));
  await turn();
  p.bus.offer(1, line("b"));
  p.bus.offer(2, line("c"));
  await turn();
  equal(p.sent.length, 1, "the second waits for a free slot");
  equal(p.bus.backlogBytes, 2 * (ENTRY_HEADER_BYTES + 3));
  await p.answer();
  equal(p.sent.length, 2);
  deepEqual(texts(p.sent[1]), ["b", "c"]);
  deepEqual([p.sent[1].sequence, p.sent[1].lineMark], [1, 3]);
  await p.answer();
  equal(p.stats.linesPublished, 3);
});

Deno.test("a message holds at most maxMessageBytes of batches", async () => {
  const entry = ENTRY_HEADER_BYTES + 3;
  using p = publisher({ maxMessageBytes: HEADER_BYTES + 2 * entry });
  for (const text of ["a", "b", "c"]) p.bus.offer(1, line(text));
  await turn();
  deepEqual(p.sent.map(texts), [["a", "b"], ["c"]]);
  deepEqual(p.sent.map((m) => m.sequence), [0, 1]);
});

Deno.test("§4.9 a published batch holds its sender back until Redis answers its PUBLISH, or fails it", async () => {
  const events: string[] = [];
  const window = new SenderWindow({
    limitBytes: 100,
    onPause: () => events.push("pause"),
    onResume: () => events.push("resume"),
  });
  using p = publisher({ maxInFlight: 1 });
  // The room's fan-out holds a batch while it calls the bus, as here.
  const send = (text: string) => {
    const batch = line(text.repeat(60), window);
    batch.hold();
    p.bus.offer(1, batch);
    batch.release();
  };
  send("a");
  await turn();
  send("b");
  window.check();
  deepEqual(events, ["pause"], "held by the bus: over the window");
  await p.answer();
  deepEqual(events, ["pause"], "the second is still held (queued)");
  await p.fail();
  deepEqual(events, ["pause", "resume"]);
  deepEqual([p.stats.linesPublished, p.stats.linesUnpublished], [1, 1]);
  equal(p.stats.batchesUnpublished, 1);
  window.close();
});

Deno.test("while Redis is down, local lines are not queued: counted unpublished, in the outage too", async () => {
  using p = publisher();
  p.link.down = true;
  p.bus.offer(1, line("a"));
  p.bus.offer(2, line("b"));
  await turn();
  deepEqual(p.sent, []);
  equal(p.bus.pending, false);
  deepEqual([p.stats.linesUnpublished, p.link.outageLines], [2, 2]);
});

Deno.test("the line mark counts every local line, published or not, so receivers can count the gap", async () => {
  using p = publisher();
  p.bus.offer(1, line("a"));
  await turn();
  p.link.down = true;
  p.bus.offer(1, line("lost 1"));
  p.bus.offer(1, line("lost 2"));
  p.link.down = false;
  p.bus.offer(1, line("d"));
  await turn();
  deepEqual(p.sent.map((m) => m.lineMark), [1, 4]);
  deepEqual(p.sent.map((m) => m.sequence), [0, 1], "no message skipped");
});

Deno.test("a batch queued longer than maxDelayMs is dropped, even while nothing is sent, and counted (cluster-expired)", async () => {
  using p = publisher({ maxInFlight: 1, maxDelayMs: 30 });
  p.bus.offer(1, line("in flight"));
  await turn();
  p.bus.offer(1, line("queued"));
  await delay(80);
  equal(p.bus.pending, true, "the first still awaits Redis");
  equal(p.bus.backlogBytes, 0);
  deepEqual([p.stats.linesExpired, p.stats.linesUnpublished], [1, 1]);
  const [expired] = p.logged("cluster-expired");
  deepEqual([expired.lines_dropped, expired.max_delay_ms], [1, 30]);
  ok(Number(expired.waited_ms) >= 30);
  await p.answer();
  equal(p.sent.length, 1, "never published late");
});

Deno.test("a full backlog drops lines of the sender holding the most, counted (cluster-backlog-full)", async () => {
  const entry = ENTRY_HEADER_BYTES + 42;
  using p = publisher({ maxBacklogBytes: 2 * entry });
  for (let i = 0; i < 3; i++) p.bus.offer(1, line(`${i}`.repeat(40)));
  p.bus.offer(2, line("y".repeat(40)));
  await turn();
  deepEqual(p.sent.map(texts), [["1".repeat(40), "y".repeat(40)]]);
  deepEqual([p.stats.linesBacklogFull, p.stats.linesUnpublished], [2, 2]);
  const full = p.logged("cluster-backlog-full");
  equal(full.reduce((n, e) => n + Number(e.lines_dropped), 0), 2);
  equal(full[0].max_backlog_bytes, 2 * entry);
});

Deno.test("clear (Redis lost) drops what is queued and releases it; what is in flight stays", async () => {
  const window = new SenderWindow({
    limitBytes: 1 << 20,
    onPause: () => {},
    onResume: () => {},
  });
  using p = publisher({ maxInFlight: 1 });
  p.bus.offer(1, line("a"));
  await turn();
  p.bus.offer(1, line("b", window));
  p.link.down = true;
  p.bus.clear();
  equal(p.bus.backlogBytes, 0);
  deepEqual([p.stats.linesUnpublished, p.link.outageLines], [1, 1]);
  equal(p.logged("cluster-expired").length, 0, "cleared is not expired");
  equal(p.bus.pending, true);
  await p.answer();
  equal(p.sent.length, 1);
  window.close();
});

Deno.test("closing: new batches are not published, and idle resolves once what is in flight is answered", async () => {
  using p = publisher();
  p.bus.offer(1, line("a"));
  await turn();
  p.close();
  p.bus.offer(1, line("late"));
  equal(p.stats.linesUnpublished, 1);
  const idle = p.bus.idle(10_000);
  await p.answer();
  await idle;
  equal(p.bus.pending, false);
  equal(p.stats.linesPublished, 1);
});

Deno.test("idle gives up after its timeout when Redis does not answer; stop drops what is queued", async () => {
  using p = publisher({ maxInFlight: 1 });
  p.bus.offer(1, line("a"));
  await turn();
  p.bus.offer(1, line("b"));
  const started = Date.now();
  await p.bus.idle(30);
  ok(Date.now() - started >= 25);
  p.bus.stop();
  equal(p.bus.backlogBytes, 0);
  equal(p.stats.linesUnpublished, 1);
  await p.answer();
  equal(p.sent.length, 1);
});

Deno.test("offer never throws into the local relay: an error is logged (internal-error) and the lines counted unpublished", () => {
  using p = publisher();
  const broken = {
    lineCount: 2,
    bytes: new Uint8Array(6),
    hold() {
      throw new Error("boom");
    },
  } as unknown as Batch;
  p.bus.offer(1, broken);
  equal(p.stats.linesUnpublished, 2);
  const [error] = p.logged("internal-error");
  deepEqual([error.where, error.error], ["cluster-publish", "Error: boom"]);
});
