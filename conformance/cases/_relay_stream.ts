/**
 * The 500-line multi-sender stream of `relay.exactly-once` and
 * `relay.sender-order`, and how its result is judged: lost versus late,
 * decorated, order per sender.
 *
 * @module
 */

import type { CaseContext } from "../case.ts";
import { isControlLine, sentinelLine } from "../control_lines.ts";
import { escapeBytes } from "../escape.ts";
import type { Peer } from "../peer.ts";
import { TIMEOUTS } from "../settings.ts";

const decoder = new TextDecoder();

/** What each client of a multi-sender stream received. */
export interface StreamResult {
  senders: string[];
  lines: number;
  /** receiver → sender → sequence numbers in arrival order. */
  received: Map<string, Map<string, number[]>>;
  /** receiver → sender → ms since the stream began, of its last line. */
  lastAt: Map<string, Map<string, number>>;
  /** receiver → the senders whose sentinel it got. */
  sentinels: Map<string, Set<string>>;
  /** receiver → lines that are no sender's line. */
  unknown: Map<string, Uint8Array[]>;
  /** receiver → how many lines arrived decorated, and one of them. */
  decorated: Map<string, { count: number; example: Uint8Array }>;
  /** receiver → its lines that came after `dueMs`: how many, the latest. */
  late: Map<string, { count: number; maxMs: number }>;
  /** receiver → why it stopped reading, when not for every sentinel. */
  stopped: Map<string, { why: "idle" | "cap" | "closed"; atMs: number }>;
  /** When the stream should have been complete (ms since it began). */
  dueMs: number;
  /** How long a receiver may hear nothing before it is stalled. */
  idleMs: number;
}

/**
 * Several senders write numbered lines at once, in batches of varying
 * size; every client (senders included) reads until it has every other
 * sender's sentinel. A correct server has relayed them all well before
 * `dueMs`; what comes later is late, not lost. Reading goes on past it
 * while lines keep coming (up to a cap), and stops when none came for
 * `idleMs`: a line is lost only when a later line of its sender, or its
 * sentinel, came and it did not, or when the stream stalled.
 */
export async function multiSenderStream(
  ctx: CaseContext,
  senderCount: number,
  listenerCount: number,
  lines: number,
): Promise<StreamResult> {
  const senderNames = Array.from(
    { length: senderCount },
    (_, i) => `S${i + 1}`,
  );
  const listenerNames = Array.from(
    { length: listenerCount },
    (_, i) => `L${i + 1}`,
  );
  const peers = await ctx.room([...senderNames, ...listenerNames], {
    quiet: true,
  });
  const senders = peers.slice(0, senderCount);
  // Found anywhere in the line: a decorated line still counts as received.
  const pattern = new RegExp(`m~${ctx.tag}~(S\\d+)~(\\d+)~`);
  const sentinelOf = (name: string) => sentinelLine(ctx.tag, name, "stream");
  const sentinelText = new Map(
    senderNames.map((n) => [decoder.decode(sentinelOf(n)), n]),
  );
  const result: StreamResult = {
    senders: senderNames,
    lines,
    received: new Map(),
    lastAt: new Map(),
    sentinels: new Map(),
    unknown: new Map(),
    decorated: new Map(),
    late: new Map(),
    stopped: new Map(),
    dueMs: ctx.wait(TIMEOUTS.line * 2),
    idleMs: ctx.wait(TIMEOUTS.line),
  };
  const capMs = ctx.timeout(TIMEOUTS.line * 6);
  const t0 = performance.now();
  const read = async (peer: Peer) => {
    const others = senderNames.filter((n) => n !== peer.name);
    const bySender = new Map<string, number[]>(senderNames.map((n) => [n, []]));
    const lastAt = new Map<string, number>();
    const seen = new Set<string>();
    const unknown: Uint8Array[] = [];
    const late = { count: 0, maxMs: 0 };
    result.received.set(peer.name, bySender);
    result.lastAt.set(peer.name, lastAt);
    result.sentinels.set(peer.name, seen);
    result.unknown.set(peer.name, unknown);
    const ownSentinel = decoder.decode(sentinelOf(peer.name));
    const deadline = { at: t0 + Math.max(result.dueMs, result.idleMs) };
    let lastLine = t0;
    const got = await peer.collectUntil((bytes) => {
      const now = performance.now();
      const at = now - t0;
      lastLine = now;
      // Lines keep coming: read on, up to the cap.
      deadline.at = Math.min(
        t0 + capMs,
        Math.max(deadline.at, now + result.idleMs),
      );
      if (isControlLine(bytes)) return false;
      const text = decoder.decode(bytes);
      const sentinel = [...sentinelText].find(([t]) => text.endsWith(t));
      if (sentinel) {
        if (text.endsWith(ownSentinel)) return false; // an echo
        seen.add(sentinel[1]);
        if (text.length > sentinel[0].length) noteDecorated(bytes);
        return others.every((n) => seen.has(n));
      }
      const match = pattern.exec(text);
      if (match === null) {
        unknown.push(bytes);
        return false;
      }
      if (match.index > 0) noteDecorated(bytes);
      bySender.get(match[1])?.push(Number(match[2]));
      lastAt.set(match[1], at);
      if (at > result.dueMs && match[1] !== peer.name) {
        late.count++;
        late.maxMs = Math.max(late.maxMs, at - result.dueMs);
      }
      return false;
    }, { timeoutMs: Infinity, deadline });
    if (late.count > 0) result.late.set(peer.name, late);
    if (got.end !== "found") {
      const atMs = Math.round(performance.now() - t0);
      const why = got.end === "timeout"
        ? (performance.now() - lastLine >= result.idleMs ? "idle" : "cap")
        : "closed";
      result.stopped.set(peer.name, { why, atMs });
    }
    function noteDecorated(bytes: Uint8Array) {
      const known = result.decorated.get(peer.name);
      if (known) known.count++;
      else result.decorated.set(peer.name, { count: 1, example: bytes });
    }
  };
  const batchSizes = [1, 5, 17, 64, 3, 40, 2, 29];
  const send = async (sender: Peer, index: number) => {
    let seq = 0;
    let batch = index;
    while (seq < lines) {
      const count = Math.min(
        lines - seq,
        batchSizes[batch++ % batchSizes.length],
      );
      const out: string[] = [];
      for (let k = 0; k < count; k++) {
        out.push(
          `m~${ctx.tag}~${sender.name}~${String(seq++).padStart(6, "0")}~`,
        );
      }
      await sender.sendMany(out);
    }
    await sender.send(sentinelOf(sender.name));
  };
  await Promise.all([
    ...peers.map(read),
    ...senders.map((sender, i) => send(sender, i)),
  ]);
  return result;
}

/** What became of one sender's stream at one receiver. */
interface PairOutcome {
  /** Lines missing before a later line of the sender (or its sentinel) came. */
  lost: number[];
  /** Lines missing after the last that came, still on their way. */
  outstanding: number;
  /** The highest line number that came, or -1. */
  last: number;
  duplicated: number;
  outOfRange: number;
}

function pairOutcome(
  stream: StreamResult,
  receiver: string,
  sender: string,
): PairOutcome {
  const seqs = stream.received.get(receiver)?.get(sender) ?? [];
  const counts = new Uint32Array(stream.lines);
  let outOfRange = 0;
  let last = -1;
  for (const seq of seqs) {
    if (seq < stream.lines) {
      counts[seq]++;
      last = Math.max(last, seq);
    } else outOfRange++;
  }
  const sentinel = stream.sentinels.get(receiver)?.has(sender) ?? false;
  const stalled = stream.stopped.get(receiver)?.why !== "cap";
  const lost: number[] = [];
  let outstanding = 0;
  let duplicated = 0;
  counts.forEach((n, seq) => {
    if (n > 1) duplicated++;
    if (n > 0) return;
    // Provably lost: something the sender sent after it came; or the
    // stream stopped coming altogether.
    if (seq < last || sentinel || stalled) lost.push(seq);
    else outstanding++;
  });
  return { lost, outstanding, last, duplicated, outOfRange };
}

/**
 * One finding for lines that came late or were still coming when the
 * case stopped reading (§2.11: slow, not lost), and one for decorated
 * lines (§2.4).
 */
function reportLateAndDecorated(ctx: CaseContext, stream: StreamResult): void {
  const pending: string[] = [];
  for (const receiver of stream.received.keys()) {
    for (const sender of stream.senders) {
      if (sender === receiver) continue;
      const outcome = pairOutcome(stream, receiver, sender);
      if (outcome.outstanding > 0) {
        pending.push(
          `${receiver} had ${
            outcome.last + 1
          } of ${sender}'s ${stream.lines} lines`,
        );
      }
    }
  }
  const capped = [...stream.stopped].filter(([, s]) => s.why === "cap");
  if (pending.length > 0 && capped.length > 0) {
    const atMs = Math.max(...capped.map(([, s]) => s.atMs));
    ctx.nonStrict(
      `the stream was still arriving when the case stopped reading, ${
        (atMs / 1000).toFixed(1)
      } s in: ` +
        `${pending.slice(0, 3).join(", ")}${
          pending.length > 3 ? `, … (${pending.length} pairs)` : ""
        }, none missing before them: ` +
        "the server relays slowly; the rest is late, not lost",
      {
        clause: "§2.11",
        cause: "slow-relay",
        data: { stoppedAtMs: atMs, pairsIncomplete: pending.length },
      },
    );
  }
  const late = [...stream.late];
  if (late.length > 0) {
    const [who, worst] = late.reduce((a, b) =>
      a[1].maxMs >= b[1].maxMs ? a : b
    );
    ctx.nonStrict(
      `${
        late.reduce((n, [, l]) => n + l.count, 0)
      } lines came after the ${stream.dueMs} ms a server that relays at once needs: ` +
        `${who}'s last came ${
          Math.round(worst.maxMs)
        } ms late (late, not lost)`,
      {
        clause: "§2.11",
        cause: "slow-relay",
        data: { lateLines: worst.count, maxLateMs: Math.round(worst.maxMs) },
      },
    );
  }
  const decorated = [...stream.decorated];
  if (decorated.length > 0) {
    const [who, { count, example }] = decorated[0];
    ctx.fail(
      `lines arrived decorated: ${who} got ${count} lines with bytes added to them, e.g. ` +
        `"${
          escapeBytes(example, { maxBytes: 80 })
        }" (they are counted as received)`,
      { clause: "§2.4", cause: "decorated" },
    );
  }
}

function stoppedBecause(stream: StreamResult, receiver: string): string {
  const stop = stream.stopped.get(receiver);
  if (stop === undefined) return "";
  return stop.why === "idle"
    ? `; nothing more came for ${stream.idleMs} ms (${
      (stop.atMs / 1000).toFixed(1)
    } s in): the stream stalled`
    : stop.why === "closed"
    ? "; the connection ended"
    : "";
}

export function checkExactlyOnce(ctx: CaseContext, stream: StreamResult): void {
  for (const [receiver] of stream.received) {
    for (const sender of stream.senders) {
      if (sender === receiver) continue;
      const outcome = pairOutcome(stream, receiver, sender);
      if (outcome.lost.length > 0) {
        ctx.fail(
          `${receiver} lost ${outcome.lost.length} of ${sender}'s ${stream.lines} lines ` +
            `(first missing: #${outcome.lost[0]}` +
            (outcome.lost[0] < outcome.last
              ? `, though #${outcome.last} came)`
              : ")") +
            stoppedBecause(stream, receiver),
          {
            data: {
              receiver,
              sender,
              missing: outcome.lost.length,
              firstMissing: outcome.lost[0],
            },
          },
        );
      }
      if (outcome.duplicated > 0 || outcome.outOfRange > 0) {
        ctx.fail(
          `${receiver} received ${outcome.duplicated} of ${sender}'s lines more than once`,
          { data: { receiver, sender, duplicated: outcome.duplicated } },
        );
      }
    }
    const unknown = stream.unknown.get(receiver) ?? [];
    if (unknown.length > 0) {
      ctx.fail(
        `${receiver} received ${unknown.length} lines that no client sent ` +
          "(merged, split or corrupted lines)",
        { clause: "§2.7", received: { [receiver]: unknown.slice(0, 20) } },
      );
    }
    const own = stream.received.get(receiver)?.get(receiver)?.length ?? 0;
    if (own > 0) {
      ctx.info(
        `${receiver} received ${own} of its own lines back (see relay.no-echo)`,
      );
    }
  }
  reportLateAndDecorated(ctx, stream);
}

export function checkOrder(ctx: CaseContext, stream: StreamResult): void {
  for (const [receiver, bySender] of stream.received) {
    for (const [sender, seqs] of bySender) {
      if (sender === receiver) continue;
      const seen = new Set<number>();
      let last = -1;
      for (const seq of seqs) {
        if (seen.has(seq)) continue;
        seen.add(seq);
        if (seq < last) {
          ctx.fail(
            `${receiver} received ${sender}'s line #${seq} after #${last}`,
            { data: { receiver, sender, line: seq, after: last } },
          );
          break;
        }
        last = seq;
      }
    }
    const lost = stream.senders.filter((sender) =>
      sender !== receiver &&
      pairOutcome(stream, receiver, sender).lost.length > 0
    );
    if (lost.length > 0) {
      ctx.fail(
        `${receiver} did not receive the whole stream of ${lost.join(", ")}` +
          stoppedBecause(stream, receiver),
        { clause: "§2.3" },
      );
    }
  }
  reportLateAndDecorated(ctx, stream);
}
