// What the cluster guarantees when Redis misbehaves, with a real
// redis-server on loopback that the tests pause (SIGSTOP), resume and
// kill: stalls are detected, nothing is delivered late, the publish
// backlog is shared fairly, reconnects are quick, and every line lost is
// counted. Bounds on time are generous; counts are exact.

import { deepEqual, equal, ok } from "node:assert/strict";
import type { ClientConnection } from "../server/client_connection.ts";
import {
  delay,
  type Drain,
  joinDrain,
  type LoggedEvent,
  pace,
  pacedLines,
  redisTest,
  type TestNode,
  waitFor,
  withNodes,
} from "./_testing.ts";
import { DEFAULT_BUS_MAX_DELAY_MS } from "./bus_limits.ts";

/** How long after Redis stops answering a stall must have been logged. */
const DETECT_WITHIN_MS = 2500;

/** Waits until `drain` has seen `<name> end`. */
function ended(drain: Drain, what: string): Promise<void> {
  return waitFor(
    () => drain.lines.some((line) => line.text.endsWith(" end")),
    what,
    10000,
  );
}

/** Sums a field over a node's events of one kind. */
function logged(node: TestNode, event: string, field: string): number {
  return node.events
    .filter((e) => e.event === event)
    .reduce((sum, e) => sum + Number(e[field] ?? 0), 0);
}

function eventTime(event: LoggedEvent | undefined): number {
  return event === undefined ? Infinity : Date.parse(String(event.ts));
}

/** Every number from 0 to `count` - 1, each once, in order. */
function checkAll(seqs: number[], count: number, what: string): void {
  equal(seqs.length, count, `${what}: every line`);
  ok(seqs.every((seq, i) => seq === i), `${what}: in order`);
}

/** Strictly increasing: never a duplicate, never out of order (§2.3 §2.6). */
function checkOrdered(seqs: number[], what: string): void {
  ok(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]), what);
}

/**
 * The numbers of the lines of `sentAt` that `seqs` lacks, checked to be
 * sent between `from` and `to` only (when Redis was not answering).
 */
function lostBetween(
  sentAt: number[],
  seqs: number[],
  from: number,
  to: number,
  what: string,
): number[] {
  const got = new Set(seqs);
  const lost = sentAt.flatMap((_, seq) => got.has(seq) ? [] : [seq]);
  const outside = lost.filter((seq) => sentAt[seq] < from || sentAt[seq] > to);
  deepEqual(
    outside.map((seq) => sentAt[seq] - from),
    [],
    `${what}: lost only lines sent while Redis was not answering`,
  );
  return lost;
}

redisTest(
  "Redis paused (SIGSTOP) for 3 s under steady traffic both ways: the stall is detected within 2.5 s, no line arrives later than --bus-max-delay-ms, local relay goes on, counters match the loss",
  () =>
    withNodes(2, async ([a, b], redis) => {
      // a1 and b1 send; each of them also reads the other (remote), and
      // a2, b2 read their own node's sender (local).
      const a1 = await joinDrain(a, "b1 ");
      const a2 = await joinDrain(a, "a1 ");
      const b1 = await joinDrain(b, "a1 ");
      const b2 = await joinDrain(b, "b1 ");
      const senders = [pace(a1.conn, "a1"), pace(b1.conn, "b1")];
      await delay(500);
      const pausedAt = Date.now();
      redis.pause();
      await delay(3000);
      redis.resume();
      const resumedAt = Date.now();
      await delay(1500);
      const [sentA, sentB] = await Promise.all(senders.map((s) => s.stop()));
      await Promise.all([
        ended(b1, "a1's end on node b"),
        ended(a1, "b1's end on node a"),
        ended(a2, "a1's end on node a"),
        ended(b2, "b1's end on node b"),
      ]);
      for (const drain of [a1, a2, b1, b2]) drain.conn.close();
      await Promise.all([a.close(), b.close()]);

      // Detected within the bound, by both connections of both nodes,
      // counted, and resumed once Redis answered again.
      const detection: number[] = [];
      for (const node of [a, b]) {
        for (const role of ["publisher", "subscriber"]) {
          const at = eventTime(
            node.events.find((e) =>
              e.event === "redis-stalled" && e.role === role
            ),
          );
          detection.push(at - pausedAt);
          ok(
            node.events.some((e) =>
              e.event === "redis-resumed" && e.role === role &&
              e.stalled === true
            ),
            `${role} resumed`,
          );
        }
        equal(node.bus.stats.publisherStalls, 1);
        equal(node.bus.stats.subscriberStalls, 1);
      }
      ok(
        detection.every((ms) => ms < DETECT_WITHIN_MS),
        `stalls detected after ${detection.join(", ")} ms`,
      );

      for (
        const [sender, sent, local, remote, from, to] of [
          ["a1", sentA, a2, b1, a, b],
          ["b1", sentB, b2, a1, b, a],
        ] as const
      ) {
        // Local relay: every line, in order, never held up by Redis.
        const near = pacedLines(local.lines);
        checkAll(near.seqs, sent, `${sender} locally`);
        ok(Math.max(...near.lateness) < 1000, `${sender} locally, in time`);
        // Cross-node: in order, within the bound, lost only in the stall.
        const far = pacedLines(remote.lines);
        checkOrdered(far.seqs, `${sender} across nodes`);
        const latest = Math.max(...far.lateness);
        ok(
          latest <= DEFAULT_BUS_MAX_DELAY_MS + 250,
          `${sender} across nodes arrived at most ${latest} ms late`,
        );
        ok(to.bus.stats.maxReceivedAgeMs <= DEFAULT_BUS_MAX_DELAY_MS);
        const lost = lostBetween(
          senders[sender === "a1" ? 0 : 1].sentAt,
          far.seqs,
          pausedAt - 100,
          resumedAt + 1000,
          sender,
        );
        ok(lost.length > 0, `${sender} lost lines in the stall`);
        // Counted on both sides: the sender's node did not publish them,
        // or the receiver's dropped them as late or never got them.
        const lines = sent + 1; // and its end
        equal(to.bus.stats.linesReceived, far.seqs.length + 1);
        equal(
          to.bus.stats.linesLate + to.bus.stats.linesMissed,
          lost.length,
          `${sender}: lost lines counted by the receiving node`,
        );
        equal(
          from.bus.stats.linesPublished + from.bus.stats.linesUnpublished,
          lines,
        );
        equal(
          logged(to, "cluster-gap", "lines_missed"),
          to.bus.stats.linesMissed,
        );
        equal(logged(to, "cluster-late", "lines_late"), to.bus.stats.linesLate);
      }
    }),
);

redisTest(
  "an idle room on a healthy Redis never reports a stall: PINGs keep each connection from going silent for --bus-stall-timeout-ms",
  () =>
    withNodes(2, async ([a, b]) => {
      const a1 = await joinDrain(a, "-");
      const b1 = await joinDrain(b, "a1 ");
      await delay(1500); // five stall timeouts without a line
      const sender = pace(a1.conn, "a1");
      await delay(50);
      const sent = await sender.stop();
      await ended(b1, "a1's end");
      checkAll(pacedLines(b1.lines).seqs, sent, "across nodes");
      for (const node of [a, b]) {
        const { publisherDisconnects, subscriberDisconnects } = node.bus.stats;
        deepEqual([publisherDisconnects, subscriberDisconnects], [0, 0]);
      }
      a1.conn.close();
      b1.conn.close();
    }, { bus: { stallTimeoutMs: 300 } }),
);

redisTest(
  "Redis paused for less than the stall timeout but more than --bus-max-delay-ms: lines it would deliver late are dropped, by the sending node (expired) or the receiving one (late), and counted",
  () => {
    const maxDelayMs = 400;
    return withNodes(2, async ([a, b], redis) => {
      const a1 = await joinDrain(a, "-");
      const b1 = await joinDrain(b, "a1 ");
      const sender = pace(a1.conn, "a1");
      await delay(300);
      const pausedAt = Date.now();
      redis.pause();
      await delay(1000);
      redis.resume();
      const resumedAt = Date.now();
      await delay(700);
      const sent = await sender.stop();
      await ended(b1, "a1's end");
      a1.conn.close();
      b1.conn.close();
      await Promise.all([a.close(), b.close()]);

      equal(a.bus.stats.publisherStalls + b.bus.stats.subscriberStalls, 0);
      const far = pacedLines(b1.lines);
      checkOrdered(far.seqs, "across nodes");
      const latest = Math.max(...far.lateness);
      ok(latest <= maxDelayMs + 250, `arrived at most ${latest} ms late`);
      ok(b.bus.stats.maxReceivedAgeMs <= maxDelayMs);
      const lost = lostBetween(
        sender.sentAt,
        far.seqs,
        pausedAt - 100,
        resumedAt + 500,
        "a1",
      );
      // Queued behind the PUBLISH Redis did not answer: expired on a.
      ok(a.bus.stats.linesExpired > 0, "some expired before publishing");
      equal(
        logged(a, "cluster-expired", "lines_dropped"),
        a.bus.stats.linesExpired,
      );
      // Already sent to Redis when it paused: dropped as late on b.
      ok(b.bus.stats.linesLate > 0, "some arrived late and were dropped");
      equal(logged(b, "cluster-late", "lines_late"), b.bus.stats.linesLate);
      equal(b.bus.stats.linesLate + b.bus.stats.linesMissed, lost.length);
      equal(
        a.bus.stats.linesPublished + a.bus.stats.linesUnpublished,
        sent + 1,
      );
    }, {
      bus: {
        maxDelayMs,
        stallTimeoutMs: 3000,
      },
    });
  },
);

redisTest(
  "§4.9 a Redis that answers nothing slows a local flooder like a client that reads nothing: the bus holds what it queued, for at most --sender-wait",
  () =>
    withNodes(2, async ([a, b], redis) => {
      const flooder = await joinDrain(a, "-");
      const remote = await joinDrain(b, "-");
      const member = [...a.server.room.members()][0] as ClientConnection;
      let flooding = true;
      const line = new TextEncoder().encode(`F${"x".repeat(1022)}\n`);
      const chunk = new Uint8Array(64 * line.length);
      for (let i = 0; i < 64; i++) chunk.set(line, i * line.length);
      const writing = (async () => {
        while (flooding) await flooder.conn.write(chunk).catch(() => 0);
      })();
      await waitFor(() => remote.bytes > 4 << 20, "the flood to cross");
      redis.pause();
      await delay(200);
      const before = member.bytesIn;
      ok(member.readingPaused, "the flooder is no longer read");
      await delay(500);
      const during = member.bytesIn - before;
      ok(during <= 320 * 1024, `read ${during} bytes while Redis was paused`);
      // The wait runs out (1 s): it is read again, Redis or not, up to
      // another window's worth.
      const held = member.bytesIn;
      await waitFor(
        () => member.bytesIn > held + 64 * 1024,
        "the sender wait to run out",
        2000,
      );
      redis.resume();
      await waitFor(
        () => member.bytesIn > before + (4 << 20),
        "the flooder to be read again",
      );
      equal(a.server.stats.closes["slow-consumer"] ?? 0, 0);
      flooding = false;
      flooder.conn.close();
      remote.conn.close();
      await writing;
    }, { bus: { stallTimeoutMs: 3000 } }),
);

redisTest(
  "a flooding client and a paced sender on one node while Redis pauses: the paced sender loses no line to the flood, only those sent while Redis was stalled",
  () =>
    withNodes(2, async ([a, b], redis) => {
      const flooder = await joinDrain(a, "-");
      const paced = await joinDrain(a, "-");
      const local = await joinDrain(a, "P ");
      const remote = await joinDrain(b, "P ");
      // 1 KiB lines, one a write, as fast as a few per ms: batches too
      // small to leave room for a paced line when the flood's own do not
      // fit, so only the fair-share rule lets the paced sender in.
      let flooding = true;
      const line = new TextEncoder().encode(`F${"x".repeat(1022)}\n`);
      const writing = (async () => {
        while (flooding) {
          for (let i = 0; i < 4; i++) {
            await flooder.conn.write(line).catch(() => 0);
          }
          await delay(1);
        }
      })();
      // 1.5 KiB lines, 50 a second: what it queues in the short pause
      // stays under an equal share of the backlog.
      const sender = pace(paced.conn, "P", 20, 1500);
      await delay(300);

      // A pause shorter than the stall timeout: everything waits in the
      // backlog, which the flood fills; the paced sender keeps its share.
      redis.pause();
      await delay(700);
      redis.resume();
      await delay(800);
      const checkpoint = Date.now() - 300;
      const arrived = new Set(pacedLines(remote.lines).seqs);
      deepEqual(
        sender.sentAt.flatMap((at, seq) =>
          at < checkpoint && !arrived.has(seq) ? [seq] : []
        ),
        [],
        "every paced line sent through the short pause arrived",
      );
      ok(a.bus.stats.linesBacklogFull > 0, "the flood overflowed the backlog");
      const floodDropped = a.bus.stats.linesBacklogFull;

      // A pause long enough to be a stall: while Redis is down, nobody's
      // lines cross, the paced sender's no more than the flooder's.
      const pausedAt = Date.now();
      redis.pause();
      await delay(2500);
      redis.resume();
      const resumedAt = Date.now();
      await delay(1000);
      const sent = await sender.stop();
      await ended(remote, "the paced sender's end");
      flooding = false;
      await writing;
      for (const drain of [flooder, paced, local, remote]) drain.conn.close();
      await Promise.all([a.close(), b.close()]);

      checkAll(pacedLines(local.lines).seqs, sent, "locally");
      const far = pacedLines(remote.lines);
      checkOrdered(far.seqs, "across nodes");
      const lost = lostBetween(
        sender.sentAt,
        far.seqs,
        pausedAt - 100,
        resumedAt + 1000,
        "P",
      );
      const inStall = sender.sentAt.filter((at) =>
        at >= pausedAt - 100 && at <= resumedAt + 1000
      ).length;
      ok(
        lost.length <= inStall,
        `lost ${lost.length} of the ${inStall} sent around the stall`,
      );
      ok(a.bus.stats.linesBacklogFull >= floodDropped);
      ok(Math.max(...far.lateness) <= DEFAULT_BUS_MAX_DELAY_MS + 250);
    }, {
      // A backlog the flood fills while Redis pauses (its sender window
      // alone would let it queue twice as much).
      bus: {
        maxBacklogBytes: 128 * 1024,
      },
    }),
);

redisTest(
  "Redis killed and restarted under steady traffic: nodes stay up, cross-node relay resumes within 1 s of the restart, and the lines lost are counted and logged",
  () =>
    withNodes(2, async ([a, b], redis) => {
      const a1 = await joinDrain(a, "-");
      const b1 = await joinDrain(b, "a1 ");
      const sender = pace(a1.conn, "a1");
      await delay(500);
      const killedAt = Date.now();
      await redis.kill();
      await delay(800);
      await redis.restart();
      const restartedAt = Date.now();
      await delay(1500);
      // Still serving: a newcomer joins and gets the next lines locally.
      const a2 = await joinDrain(a, "a1 ");
      await delay(100);
      const sent = await sender.stop();
      await Promise.all([ended(b1, "a1's end on b"), ended(a2, "on a")]);
      for (const drain of [a1, a2, b1]) drain.conn.close();
      await Promise.all([a.close(), b.close()]);

      const far = pacedLines(b1.lines);
      checkOrdered(far.seqs, "across nodes");
      const lost = lostBetween(
        sender.sentAt,
        far.seqs,
        killedAt - 100,
        restartedAt + 1000,
        "a1",
      );
      ok(lost.length > 0);
      ok(pacedLines(a2.lines).seqs.length > 0, "the newcomer got lines");
      equal(b.bus.stats.linesLate + b.bus.stats.linesMissed, lost.length);
      equal(logged(b, "cluster-gap", "lines_missed"), b.bus.stats.linesMissed);
      equal(
        a.bus.stats.linesPublished + a.bus.stats.linesUnpublished,
        sent + 1,
      );
      const resumed = a.events.find((e) =>
        e.event === "redis-resumed" && e.role === "publisher"
      );
      equal(resumed?.lines_unpublished, a.bus.stats.linesUnpublished);
    }),
);
