// The receiver's accounting, clause by clause, fed encoded messages
// directly: no Redis.

import { deepEqual, equal } from "node:assert/strict";
import type { Batch } from "../server/batch.ts";
import { Room, type RoomMember } from "../server/room.ts";
import { BusReceiver, CLOCK_SKEW_WARN_MS } from "./_bus_receiver.ts";
import { busMessage, captureLogger, type LoggedEvent } from "./_testing.ts";
import { BusStats } from "./bus_stats.ts";
import { encodeMessage, newNodeId, nodeIdHex } from "./message.ts";

/** A member that records the text of each batch it gets. */
interface Recorder extends RoomMember {
  connectedAt?: number;
  got: string[];
}

/**
 * A receiver attached to a room of `members` (their `connectedAt`s, or
 * `undefined` for a member that does not say), with its counters and
 * logged events; disposing it closes its reports.
 */
function receiver(
  options: { maxDelayMs?: number; joinSlackMs?: number } = {},
  members: (number | undefined)[] = [0],
) {
  const { logger, events } = captureLogger();
  const stats = new BusStats();
  const nodeId = newNodeId();
  const bus = new BusReceiver({
    logger,
    nodeId,
    nodeIdHex: nodeIdHex(nodeId),
    maxDelayMs: options.maxDelayMs ?? 2000,
    joinSlackMs: options.joinSlackMs ?? 2,
    stats,
  });
  const room = new Room<Recorder>();
  const decoder = new TextDecoder();
  const recorders = members.map((connectedAt, id): Recorder => {
    const got: string[] = [];
    const deliver = (batch: Batch) => got.push(decoder.decode(batch.bytes));
    return connectedAt === undefined
      ? { id, got, deliver }
      : { id, connectedAt, got, deliver };
  });
  for (const member of recorders) room.join(member);
  bus.attach(room as unknown as Room<RoomMember>);
  return {
    bus,
    stats,
    events,
    nodeId,
    members: recorders,
    /** The events named `event`, after the reports owed are written. */
    logged(event: string): LoggedEvent[] {
      bus.closeReports();
      return events.filter((e) => e.event === event);
    },
    [Symbol.dispose]: () => bus.closeReports(),
  };
}

Deno.test("§2.1 another node's lines are delivered to every local member and counted", () => {
  using r = receiver({}, [0, 0]);
  const now = Date.now();
  r.bus.receive(busMessage(newNodeId(), 0, 2, ["a", now], ["b", now]));
  for (const member of r.members) deepEqual(member.got, ["a\r\n", "b\r\n"]);
  equal(r.stats.messagesReceived, 1);
  equal(r.stats.linesReceived, 2);
});

Deno.test("§2.2 the node's own messages are skipped, version 1 or 2, and counted", () => {
  using r = receiver();
  const own = busMessage(r.nodeId, 0, 1, ["mine", Date.now()]);
  r.bus.receive(own);
  r.bus.receive(Uint8Array.of(1, ...own.subarray(1, 16), ...own.subarray(20)));
  deepEqual(r.members[0].got, []);
  equal(r.stats.ownMessagesSkipped, 2);
  equal(r.stats.messagesReceived, 0);
});

Deno.test("messages not in the bus format are counted, and logged ten times at most", () => {
  using r = receiver();
  const junk = new TextEncoder().encode(
    "hello from redis-cli, not a bus message",
  );
  for (let i = 0; i < 12; i++) r.bus.receive(junk);
  equal(r.stats.malformedMessages, 12);
  equal(r.logged("cluster-malformed").length, 10);
  equal(r.stats.messagesReceived, 0);
});

Deno.test("line marks count the lines of a node that never arrived (cluster-gap)", () => {
  using r = receiver();
  const other = newNodeId();
  const now = Date.now();
  r.bus.receive(busMessage(other, 0, 1, ["1", now]));
  // Lines 2 to 4 were never published by their node.
  r.bus.receive(busMessage(other, 1, 5, ["5", now]));
  r.bus.receive(busMessage(other, 2, 6, ["6", now]));
  deepEqual(r.members[0].got, ["1\r\n", "5\r\n", "6\r\n"]);
  equal(r.stats.linesMissed, 3);
  equal(r.stats.messagesMissed, 0);
  const [gap] = r.logged("cluster-gap");
  deepEqual([gap.lines_missed, gap.messages_missed], [3, 0]);
  equal(gap.from_node, nodeIdHex(other));
});

Deno.test("sequence gaps count the messages missed, and their lines from the marks", () => {
  using r = receiver();
  const other = newNodeId();
  const now = Date.now();
  r.bus.receive(busMessage(other, 0, 1, ["1", now]));
  // Messages 1 and 2 (lines 2 to 4) were lost on the way.
  r.bus.receive(busMessage(other, 3, 5, ["5", now]));
  deepEqual([r.stats.messagesMissed, r.stats.linesMissed], [2, 3]);
});

Deno.test("each other node is accounted for on its own", () => {
  using r = receiver();
  const [x, y] = [newNodeId(), newNodeId()];
  const now = Date.now();
  r.bus.receive(busMessage(x, 0, 1, ["x1", now]));
  r.bus.receive(busMessage(y, 7, 40, ["y40", now]));
  r.bus.receive(busMessage(x, 1, 2, ["x2", now]));
  r.bus.receive(busMessage(y, 8, 41, ["y41", now]));
  deepEqual([r.stats.messagesMissed, r.stats.linesMissed], [0, 0]);
  equal(r.stats.linesReceived, 4);
});

Deno.test("sequence numbers and line marks wrap at 2^32 without a gap", () => {
  using r = receiver();
  const other = newNodeId();
  const now = Date.now();
  r.bus.receive(busMessage(other, 2 ** 32 - 1, 2 ** 32 - 1, ["last", now]));
  r.bus.receive(busMessage(other, 0, 0, ["wrapped", now]));
  deepEqual(r.members[0].got, ["last\r\n", "wrapped\r\n"]);
  deepEqual([r.stats.messagesMissed, r.stats.linesMissed], [0, 0]);
});

Deno.test("a version-1 message (no line mark): messages missed are counted, lines cannot be", () => {
  using r = receiver();
  const other = newNodeId();
  const v1 = (sequence: number) => {
    const v2 = busMessage(other, sequence, 0, ["old", Date.now()]);
    return Uint8Array.of(1, ...v2.subarray(1, 16), ...v2.subarray(20));
  };
  r.bus.receive(v1(0));
  r.bus.receive(v1(3));
  equal(r.members[0].got.length, 2);
  deepEqual([r.stats.messagesMissed, r.stats.linesMissed], [2, 0]);
});

Deno.test("§2.6 a message behind one already delivered (a replay) is dropped as late, never delivered twice", () => {
  using r = receiver();
  const other = newNodeId();
  const now = Date.now();
  const first = busMessage(other, 0, 1, ["1", now]);
  r.bus.receive(first);
  r.bus.receive(busMessage(other, 1, 2, ["2", now]));
  r.bus.receive(first);
  r.bus.receive(busMessage(other, 2, 3, ["3", now]));
  deepEqual(r.members[0].got, ["1\r\n", "2\r\n", "3\r\n"]);
  deepEqual([r.stats.linesLate, r.stats.batchesLate], [1, 1]);
  deepEqual([r.stats.messagesMissed, r.stats.linesMissed], [0, 0]);
  equal(r.logged("cluster-late")[0].lines_late, 1);
});

Deno.test("a cross-node line older than maxDelayMs is dropped and counted as late, the rest of its message delivered", () => {
  using r = receiver({ maxDelayMs: 1000 });
  const other = newNodeId();
  const now = Date.now();
  r.bus.receive(
    busMessage(other, 0, 3, ["stale", now - 1500], ["older", now - 3000], [
      "fresh",
      now - 900,
    ]),
  );
  deepEqual(r.members[0].got, ["fresh\r\n"]);
  deepEqual([r.stats.linesLate, r.stats.batchesLate], [2, 2]);
  equal(r.stats.linesReceived, 1);
  equal(r.stats.linesMissed, 0, "late lines are not missed lines too");
  equal(
    r.stats.maxReceivedAgeMs >= 900 && r.stats.maxReceivedAgeMs <= 1000,
    true,
  );
  const [late] = r.logged("cluster-late");
  equal(late.lines_late, 2);
  equal(Number(late.age_ms) >= 3000, true, "the oldest age is reported");
  equal(late.max_delay_ms, 1000);
});

Deno.test("a batch stamped more than CLOCK_SKEW_WARN_MS in the future is delivered and logged (cluster-clock-skew)", () => {
  using r = receiver();
  const other = newNodeId();
  const now = Date.now();
  r.bus.receive(busMessage(other, 0, 1, ["slightly", now + 50]));
  equal(r.logged("cluster-clock-skew").length, 0, "within the warning");
  r.bus.receive(
    busMessage(other, 1, 2, ["ahead", now + CLOCK_SKEW_WARN_MS + 400]),
  );
  deepEqual(r.members[0].got, ["slightly\r\n", "ahead\r\n"]);
  const [skew] = r.logged("cluster-clock-skew");
  equal(Number(skew.ahead_ms) > 300, true, JSON.stringify(skew));
});

Deno.test("§2.9 a member that connected more than joinSlackMs after a line was completed does not get it", () => {
  const now = Date.now();
  using r = receiver({ joinSlackMs: 2 }, [now - 1000, now]);
  const [old, newcomer] = r.members;
  const other = newNodeId();
  r.bus.receive(busMessage(other, 0, 1, ["before", now - 500]));
  r.bus.receive(busMessage(other, 1, 2, ["in the slack", now - 2]));
  r.bus.receive(busMessage(other, 2, 3, ["after", now + 1]));
  deepEqual(old.got, ["before\r\n", "in the slack\r\n", "after\r\n"]);
  deepEqual(newcomer.got, ["in the slack\r\n", "after\r\n"]);
  equal(r.stats.linesReceived, 3, "received once, whoever gets it");
});

Deno.test("§2.9 a member that does not say when it connected gets every line, even when a newcomer does not", () => {
  const now = Date.now();
  using r = receiver({}, [undefined, now]);
  r.bus.receive(busMessage(newNodeId(), 0, 1, ["before", now - 500]));
  deepEqual(r.members.map((m) => m.got.length), [1, 0]);
});

Deno.test("§2.7 several lines of one sender arrive as the one batch they were sent in", () => {
  using r = receiver();
  const batch = new TextEncoder().encode("a\r\n\0 é\r\n");
  r.bus.receive(encodeMessage(newNodeId(), 0, [
    { completedAt: Date.now(), senderId: 9, lineCount: 2, batch },
  ], 2));
  deepEqual(r.members[0].got, ["a\r\n\0 é\r\n"]);
  equal(r.stats.linesReceived, 2);
});

Deno.test("an error while delivering is logged as internal-error, never thrown to the subscription", () => {
  using r = receiver();
  r.members[0].deliver = () => {
    throw new Error("boom");
  };
  r.bus.receive(busMessage(newNodeId(), 0, 1, ["x", Date.now()]));
  const [error] = r.logged("internal-error");
  deepEqual([error.where, error.error], ["cluster-receive", "Error: boom"]);
});
