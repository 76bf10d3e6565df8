/**
 * Relay cases (PROTOCOL.md §2): who receives a line, how often, in which
 * order, and from when on.
 *
 * @module
 */

import { utf8 } from "../bytes.ts";
import type { CaseContext, CaseDefinition } from "../case.ts";
import { describeLineMismatch } from "../compare.ts";
import { sentinelLine } from "../control_lines.ts";
import { escapeBytes } from "../escape.ts";
import type { Peer } from "../peer.ts";
import { TIMEOUTS } from "../settings.ts";
import { percentile } from "./_helpers.ts";

const decoder = new TextDecoder();

/** What each client of a multi-sender stream received. */
interface StreamResult {
  senders: string[];
  lines: number;
  /** receiver → sender → sequence numbers in arrival order. */
  received: Map<string, Map<string, number[]>>;
  /** receiver → lines that are no sender's line. */
  unknown: Map<string, Uint8Array[]>;
  /** receiver → why it stopped early, if it did. */
  incomplete: Map<string, string>;
}

/**
 * Several senders write numbered lines at once, in batches of varying
 * size; every client (senders included) reads until it has every other
 * sender's sentinel.
 */
async function multiSenderStream(
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
  const pattern = new RegExp(`^m~${ctx.tag}~(S\\d+)~(\\d+)~`);
  const sentinelOf = (name: string) => sentinelLine(ctx.tag, name, "stream");
  const result: StreamResult = {
    senders: senderNames,
    lines,
    received: new Map(),
    unknown: new Map(),
    incomplete: new Map(),
  };
  const timeoutMs = ctx.timeout(TIMEOUTS.line * 5);
  const read = async (peer: Peer) => {
    const others = senderNames.filter((n) => n !== peer.name).map(sentinelOf);
    const got = await ctx.collectUntilAll(peer, others, timeoutMs);
    const bySender = new Map<string, number[]>(senderNames.map((n) => [n, []]));
    const unknown: Uint8Array[] = [];
    const ownSentinel = decoder.decode(sentinelOf(peer.name));
    for (const line of got.lines) {
      const text = decoder.decode(line.bytes);
      if (text === ownSentinel) continue; // an echo: relay.no-echo's business
      const match = pattern.exec(text);
      if (match) bySender.get(match[1])?.push(Number(match[2]));
      else unknown.push(line.bytes);
    }
    result.received.set(peer.name, bySender);
    result.unknown.set(peer.name, unknown);
    if (got.end !== "found") {
      result.incomplete.set(
        peer.name,
        `${ctx.describeEnd(got, timeoutMs)}; sentinels missing from ${
          got.missing.map((t) => decoder.decode(t).split("~")[3]).join(", ")
        }`,
      );
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

function checkExactlyOnce(ctx: CaseContext, stream: StreamResult): void {
  for (const [receiver, bySender] of stream.received) {
    for (const [sender, seqs] of bySender) {
      if (sender === receiver) continue;
      const counts = new Uint32Array(stream.lines);
      let outOfRange = 0;
      for (const seq of seqs) {
        if (seq < stream.lines) counts[seq]++;
        else outOfRange++;
      }
      const missing: number[] = [];
      const duplicated: number[] = [];
      counts.forEach((n, seq) => {
        if (n === 0) missing.push(seq);
        if (n > 1) duplicated.push(seq);
      });
      if (missing.length > 0) {
        ctx.fail(
          `${receiver} lost ${missing.length} of ${sender}'s ${stream.lines} lines ` +
            `(first missing: #${missing[0]})` +
            (stream.incomplete.has(receiver)
              ? `; it stopped reading because ${
                stream.incomplete.get(receiver)
              }`
              : ""),
          {
            data: {
              receiver,
              sender,
              missing: missing.length,
              firstMissing: missing[0],
            },
          },
        );
      }
      if (duplicated.length > 0 || outOfRange > 0) {
        ctx.fail(
          `${receiver} received ${duplicated.length} of ${sender}'s lines more than once ` +
            `(first: #${duplicated[0]})`,
          { data: { receiver, sender, duplicated: duplicated.length } },
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
}

function checkOrder(ctx: CaseContext, stream: StreamResult): void {
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
    if (stream.incomplete.has(receiver)) {
      ctx.fail(
        `${receiver} did not receive the whole stream: ${
          stream.incomplete.get(receiver)
        }`,
        {
          clause: "§2.3",
        },
      );
    }
  }
}

/**
 * The relay cases.
 *
 * @example
 * ```ts
 * import { RELAY_CASES } from "./relay.ts";
 * console.log(RELAY_CASES.map((c) => c.id));
 * ```
 */
export const RELAY_CASES: CaseDefinition[] = [
  {
    id: "relay.basic",
    clause: "§2.1",
    level: "MUST",
    requirement: "A line one client sends reaches another client",
    async run(ctx) {
      const [a, b] = await ctx.room(["A", "B"]);
      await a.send("hello from A");
      await ctx.expectLines(b, ["hello from A"], await ctx.sentinel(a));
    },
  },
  {
    id: "relay.every-other-client",
    clause: "§2.1",
    level: "MUST",
    requirement:
      "Each line reaches every other client: the first and the last joined included",
    async run(ctx) {
      const names = ["A", "B", "C", "D", "E"];
      const peers = await ctx.room(names);
      const lineOf = (name: string) => utf8(`line from ${name} (${ctx.tag})`);
      const sentinels = new Map<string, Uint8Array>();
      for (const peer of peers) {
        await peer.send(lineOf(peer.name));
        sentinels.set(peer.name, await ctx.sentinel(peer));
      }
      const timeoutMs = ctx.timeout(TIMEOUTS.line);
      await Promise.all(peers.map(async (receiver, position) => {
        const others = peers.filter((p) => p !== receiver);
        const got = await ctx.collectUntilAll(
          receiver,
          others.map((p) => sentinels.get(p.name)!),
          timeoutMs,
        );
        const lines = got.lines.map((l) => decoder.decode(l.bytes));
        for (const sender of others) {
          const expected = decoder.decode(lineOf(sender.name));
          if (lines.includes(expected)) continue;
          ctx.fail(
            `${receiver.name} (joined ${
              ordinal(position + 1)
            } of ${peers.length}) ` +
              `did not receive the line from ${sender.name}`,
            {
              expected: { [receiver.name]: others.map((p) => lineOf(p.name)) },
              received: { [receiver.name]: got.lines },
            },
          );
        }
      }));
    },
  },
  {
    id: "relay.no-echo",
    clause: "§2.2",
    level: "MUST",
    requirement:
      "The server never sends a line back to the client that sent it",
    async run(ctx) {
      const [a, b] = await ctx.room(["A", "B"]);
      const probe = utf8(`echo probe from A (${ctx.tag})`);
      await a.send(probe);
      const first = await ctx.sentinel(a);
      if (!(await ctx.expectLines(b, [probe], first, { clause: "§2.1" }))) {
        return;
      }
      // B has A's line, so the server processed it; any echo to A was
      // queued before B's sentinel, which A now reads up to.
      const fromB = await ctx.sentinel(b);
      const got = await a.collectUntil(fromB, {
        timeoutMs: ctx.timeout(TIMEOUTS.line),
      });
      if (got.end !== "found") {
        ctx.abort(
          `A never got B's sentinel: ${
            ctx.describeEnd(got, ctx.timeout(TIMEOUTS.line))
          }`,
          {
            clause: "§2.1",
          },
        );
      }
      if (got.lines.length > 0) {
        const echoed = got.lines.some((l) =>
          escapeBytes(l.bytes) === escapeBytes(probe)
        );
        ctx.fail(
          echoed
            ? "A received its own line back"
            : `A received ${got.lines.length} unexpected lines after sending`,
          { expected: { A: [] }, received: { A: got.lines } },
        );
      }
    },
  },
  {
    id: "relay.exactly-once",
    clause: "§2.3",
    level: "MUST",
    requirement:
      "In a sustained stream from several senders each recipient gets each line exactly once",
    async run(ctx) {
      const stream = await multiSenderStream(ctx, 4, 2, 500);
      ctx.measure("linesPerSender", stream.lines);
      checkExactlyOnce(ctx, stream);
    },
  },
  {
    id: "relay.sender-order",
    clause: "§2.6",
    level: "MUST",
    requirement:
      "Lines from one sender reach each recipient in the order sent, with several senders at once",
    async run(ctx) {
      const stream = await multiSenderStream(ctx, 4, 2, 500);
      checkOrder(ctx, stream);
    },
  },
  {
    id: "relay.slow-senders-not-merged",
    clause: "§2.7",
    level: "MUST",
    requirement:
      "Lines that concurrent senders write a byte at a time are never interleaved or merged",
    async run(ctx) {
      const [a, b, c] = await ctx.room(["A", "B", "C"]);
      const lineA = utf8(`AAAAAAAA from A ${ctx.tag}`);
      const lineB = utf8(`bbbbbbbbbbbb from B ${ctx.tag}`);
      for (let i = 0; i < Math.max(lineA.length, lineB.length); i++) {
        if (i < lineA.length) await a.write(lineA.subarray(i, i + 1));
        if (i < lineB.length) await b.write(lineB.subarray(i, i + 1));
        await ctx.tick(c, a);
      }
      await a.write("\n");
      await b.write("\n");
      const sentinels = [await ctx.sentinel(a), await ctx.sentinel(b)];
      const timeoutMs = ctx.timeout(TIMEOUTS.line);
      const got = await ctx.collectUntilAll(c, sentinels, timeoutMs);
      const text = got.lines.map((l) => escapeBytes(l.bytes));
      const want = [escapeBytes(lineA), escapeBytes(lineB)];
      const ok = got.lines.length === 2 && want.every((w) => text.includes(w));
      if (!ok) {
        ctx.fail(
          got.end !== "found"
            ? `C did not get both senders' sentinels: ${
              ctx.describeEnd(got, timeoutMs)
            }`
            : `C received ${got.lines.length} lines where the 2 lines written ` +
              "byte by byte, interleaved, were expected",
          { expected: { C: [lineA, lineB] }, received: { C: got.lines } },
        );
      }
    },
  },
  {
    id: "relay.join-mid-stream",
    clause: "§2.9",
    level: "MUST",
    requirement:
      "A client that joins gets only lines completed after it joined, never earlier ones",
    async run(ctx) {
      const [a, b] = await ctx.room(["A", "B"]);
      const before = [1, 2, 3].map((i) =>
        utf8(`before C joined #${i} (${ctx.tag})`)
      );
      await a.sendMany(before);
      if (
        !(await ctx.expectLines(b, before, await ctx.sentinel(a), {
          clause: "§2.1",
        }))
      ) {
        return;
      }
      // The lines before are complete (B has them); now C joins, and the
      // barrier proves the server registered it before the line after.
      const c = await ctx.connect("C");
      await ctx.join(c);
      const after = utf8(`after C joined (${ctx.tag})`);
      await a.send(after);
      const sentinel = await ctx.sentinel(a);
      const timeoutMs = ctx.timeout(TIMEOUTS.line);
      const got = await c.collectUntil(sentinel, { timeoutMs });
      const isBefore = (line: Uint8Array) =>
        before.some((b) => escapeBytes(b) === escapeBytes(line));
      const old = [...c.unsolicited, ...got.lines].filter((line) =>
        isBefore(line.bytes)
      );
      if (old.length > 0) {
        ctx.fail(
          `C received ${old.length} lines completed before it connected (history replay)`,
          { expected: { C: [after] }, received: { C: got.lines } },
        );
      }
      if (got.end !== "found") {
        ctx.fail(
          `C never got A's sentinel: ${ctx.describeEnd(got, timeoutMs)}`,
          {
            clause: "§2.1",
            received: { C: got.lines },
          },
        );
        return;
      }
      const rest = got.lines.filter((line) => !isBefore(line.bytes)).map((l) =>
        l.bytes
      );
      const mismatch = describeLineMismatch("C", [after], rest);
      if (mismatch !== null) {
        ctx.fail(mismatch, {
          clause: "§2.1",
          expected: { C: [after] },
          received: { C: rest },
        });
      }
    },
  },
  {
    id: "relay.join-mid-line",
    clause: "§2.1",
    level: "MUST",
    requirement:
      "A line begun before a client joined and completed after reaches that client",
    async run(ctx) {
      const [a] = await ctx.room(["A", "B"]);
      await a.write(`started before C joined, `);
      const c = await ctx.connect("C");
      await ctx.join(c);
      await a.write(`completed after (${ctx.tag})\n`);
      await ctx.expectLines(
        c,
        [`started before C joined, completed after (${ctx.tag})`],
        await ctx.sentinel(a),
      );
    },
  },
  {
    id: "relay.after-leave",
    clause: "§2.10",
    level: "MUST",
    requirement:
      "After a client closes, every line still reaches the others (it joined between them)",
    run: (ctx) => afterLeave(ctx, "close"),
  },
  {
    id: "relay.after-reset",
    clause: "§2.10",
    level: "MUST",
    requirement:
      "After a client resets its connection, every line still reaches the others",
    run: (ctx) => afterLeave(ctx, "reset"),
  },
  {
    id: "relay.no-delay",
    clause: "§2.11",
    level: "SHOULD",
    requirement:
      "Lines are relayed at once: small writes are not delayed (Nagle's algorithm is off)",
    async run(ctx) {
      const [a, b] = await ctx.room(["A", "B"], { quiet: true });
      // Two lines per turn in a ping-pong: a server that writes each line
      // on its own with Nagle on holds the second until the peer's delayed
      // ACK, some 40 ms a turn.
      const rounds = 30;
      const times: number[] = [];
      const timeoutMs = ctx.timeout(TIMEOUTS.line);
      for (let i = 0; i < rounds; i++) {
        const t0 = performance.now();
        for (const [from, to] of [[a, b], [b, a]] as const) {
          const first = utf8(`ping ${i} ${from.name} 1`);
          const second = utf8(`ping ${i} ${from.name} 2`);
          await from.sendMany([first, second]);
          const got = await to.collectUntil(second, { timeoutMs });
          if (got.end !== "found") {
            ctx.abort(
              `${to.name} did not get ${from.name}'s line: ${
                ctx.describeEnd(got, timeoutMs)
              }`,
              {
                clause: "§2.1",
              },
            );
          }
        }
        times.push(performance.now() - t0);
      }
      const settled = times.slice(5);
      const median = percentile(settled, 50);
      ctx.measure("medianRoundMs", median);
      ctx.measure("p90RoundMs", percentile(settled, 90));
      const limit = 20 * ctx.settings.timeoutScale;
      if (median > limit) {
        ctx.fail(
          `a round of two small lines each way took ${
            median.toFixed(1)
          } ms (median): ` +
            "the server delays small writes (Nagle's algorithm with delayed ACKs?)",
          {
            data: {
              medianRoundMs: Math.round(median * 10) / 10,
              limitMs: limit,
            },
          },
        );
      } else {
        ctx.info(
          `median round of two small lines each way: ${median.toFixed(2)} ms`,
        );
      }
    },
  },
];

/**
 * A, X, B, C join in that order; X leaves (close or reset); then A, B and
 * C each send lines one by one and the other two must get every one. A
 * server that keeps X in its recipient list and stops a fan-out at the
 * first failing write loses lines for B and C.
 */
async function afterLeave(
  ctx: CaseContext,
  how: "close" | "reset",
): Promise<void> {
  const a = await ctx.connect("A");
  await ctx.join(a);
  const x = how === "reset"
    ? await ctx.connectRaw("X")
    : await ctx.connect("X");
  await ctx.join(x);
  const [b, c] = await ctx.room(["B", "C"]);
  const lastWords = utf8(`X's last line (${ctx.tag})`);
  await x.send(lastWords);
  const sentinel = await ctx.sentinel(x);
  for (const peer of [a, b, c]) {
    await ctx.expectLines(peer, [lastWords], sentinel, { clause: "§5.1" });
  }
  if (how === "reset") (x as { reset(): void }).reset();
  else x.close();
  ctx.note(`X left by ${how}; now A, B and C take turns, one line at a time`);
  const peers = [a, b, c];
  const timeoutMs = ctx.timeout(TIMEOUTS.line);
  for (let round = 1; round <= 3; round++) {
    for (const sender of peers) {
      const line = utf8(
        `round ${round} from ${sender.name} after X left (${ctx.tag})`,
      );
      await sender.send(line);
      for (const receiver of peers) {
        if (receiver === sender) continue;
        const got = await receiver.collectUntil(line, { timeoutMs });
        if (got.end !== "found") {
          ctx.abort(
            `${receiver.name} did not receive ${sender.name}'s line (round ${round}) ` +
              `after X left by ${how}: ${ctx.describeEnd(got, timeoutMs)}`,
            {
              expected: { [receiver.name]: [line] },
              received: { [receiver.name]: got.lines },
            },
          );
        }
      }
    }
  }
  // The server still accepts and registers newcomers.
  const d = await ctx.connect("D");
  await ctx.join(d);
  const welcome = utf8(`to D after X left (${ctx.tag})`);
  await a.send(welcome);
  await ctx.expectLines(d, [welcome], await ctx.sentinel(a), {
    clause: "§5.2",
  });
}

function ordinal(n: number): string {
  return n === 1 ? "1st" : n === 2 ? "2nd" : n === 3 ? "3rd" : `${n}th`;
}
