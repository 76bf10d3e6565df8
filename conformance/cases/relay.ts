/**
 * Relay cases (PROTOCOL.md §2): who receives a line, how often, in which
 * order, and from when on.
 *
 * @module
 */

import { bytesEqual, endsWith, indexOfBytes, utf8 } from "../bytes.ts";
import type { CaseContext, CaseDefinition } from "../case.ts";
import { decoration, describeDecoration, lineMismatch } from "../compare.ts";
import { escapeBytes } from "../escape.ts";
import { TIMEOUTS } from "../settings.ts";
import { percentile } from "./_helpers.ts";

import {
  checkExactlyOnce,
  checkOrder,
  multiSenderStream,
} from "./_relay_stream.ts";

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
      const timeoutMs = ctx.wait(TIMEOUTS.line);
      await Promise.all(peers.map(async (receiver, position) => {
        const others = peers.filter((p) => p !== receiver);
        const got = await ctx.collectUntilAll(
          receiver,
          others.map((p) => sentinels.get(p.name)!),
          timeoutMs,
        );
        for (const sender of others) {
          const expected = lineOf(sender.name);
          if (got.lines.some((l) => bytesEqual(l.bytes, expected))) continue;
          const wrapped = got.lines.find((l) =>
            decoration(expected, l.bytes) !== null
          );
          if (wrapped) {
            ctx.fail(
              `${receiver.name} received ${sender.name}'s line decorated: ${
                describeDecoration(expected, wrapped.bytes)
              }`,
              {
                clause: "§2.4",
                cause: "decorated",
                expected: { [receiver.name]: [expected] },
                received: { [receiver.name]: got.lines },
              },
            );
            continue;
          }
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
      // B's copy may differ (decorated, say): that is §2.1's or §2.4's
      // finding, and the echo is still checked. Only a B that never got
      // the sentinel leaves the echo unjudged.
      const relayed = await ctx.collect(b, first, {
        what: "A's sentinel at B",
      });
      if (relayed.end !== "found") {
        ctx.abort(
          `B never got A's sentinel, so the server may not have processed A's line: ${
            ctx.describeEnd(relayed, relayed.waitedMs)
          }`,
          { clause: "§2.1", received: { B: relayed.lines } },
        );
      }
      // B has A's sentinel, so the server processed A's line; any echo to
      // A was queued before B's sentinel, which A now reads up to.
      const fromB = await ctx.sentinel(b);
      const got = await ctx.collect(a, fromB, { what: "B's sentinel at A" });
      if (got.end !== "found") {
        ctx.abort(
          `A never got B's sentinel: ${ctx.describeEnd(got, got.waitedMs)}`,
          { clause: "§2.1", received: { A: got.lines } },
        );
      }
      // The probe's content anywhere in a line is an echo, decorated or not.
      const echoed = (l: { bytes: Uint8Array }) =>
        indexOfBytes(l.bytes, probe) >= 0 || endsWith(l.bytes, first);
      const echoes = got.lines.filter(echoed);
      const foreign = got.lines.filter((l) =>
        !echoed(l) && !endsWith(l.bytes, fromB)
      );
      if (echoes.length > 0) {
        const decorated = echoes.find((l) =>
          indexOfBytes(l.bytes, probe) >= 0 && !bytesEqual(l.bytes, probe)
        );
        ctx.fail(
          "A received its own line back" +
            (decorated
              ? ` (decorated: ${describeDecoration(probe, decorated.bytes)})`
              : ""),
          { expected: { A: [] }, received: { A: got.lines } },
        );
      } else if (foreign.length > 0) {
        ctx.fail(
          `A received ${foreign.length} unexpected lines after sending`,
          { expected: { A: [] }, received: { A: got.lines } },
        );
      }
      // What B got of A's line comes after: the echo is this case's clause.
      if (!relayed.lines.some((l) => bytesEqual(l.bytes, probe))) {
        const wrapped = relayed.lines.find((l) =>
          decoration(probe, l.bytes) !== null
        );
        ctx.fail(
          wrapped
            ? `B received A's line decorated: ${
              describeDecoration(probe, wrapped.bytes)
            }`
            : "B did not receive A's line before A's sentinel",
          {
            clause: wrapped ? "§2.4" : "§2.1",
            cause: wrapped ? "decorated" : undefined,
            expected: { B: [probe] },
            received: { B: relayed.lines },
          },
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
    // Reading may go on for 12 s while a slow server still delivers.
    budgetMs: 40_000,
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
    // Reading may go on for 12 s while a slow server still delivers.
    budgetMs: 40_000,
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
      const timeoutMs = ctx.wait(TIMEOUTS.line);
      const got = await ctx.collectUntilAll(c, sentinels, timeoutMs);
      // A sentinel with extra bytes before it is judged as a line; a
      // decoration the server adds to every line is not merging.
      const lines = got.lines.filter((l) =>
        !sentinels.some((t) => endsWith(l.bytes, t) && !bytesEqual(l.bytes, t))
      );
      const intact = (want: Uint8Array) =>
        lines.some((l) =>
          bytesEqual(l.bytes, want) || decoration(want, l.bytes) !== null
        );
      const ok = lines.length === 2 && intact(lineA) && intact(lineB);
      if (got.end !== "found") {
        ctx.fail(
          `C did not get both senders' sentinels: ${
            ctx.describeEnd(got, got.waitedMs)
          }`,
          { expected: { C: [lineA, lineB] }, received: { C: got.lines } },
        );
      } else if (!ok) {
        ctx.fail(
          `A's and B's lines, written a byte at a time at once, did not arrive intact: ` +
            `C received ${lines.length} ${
              lines.length === 1 ? "line" : "lines"
            } (${
              lines.slice(0, 2).map((l) =>
                `"${escapeBytes(l.bytes, { maxBytes: 40 })}"`
              )
                .join(", ")
            }${
              lines.length > 2 ? ", …" : ""
            }) where A's and B's 2 lines were expected, ` +
            "each whole: they were interleaved or merged",
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
      const timeoutMs = ctx.wait(TIMEOUTS.line);
      const got = await c.collectUntil(sentinel, { timeoutMs });
      // Decorated or not: a line holding an earlier line's content.
      const isBefore = (line: Uint8Array) =>
        before.some((b) => indexOfBytes(line, b) >= 0);
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
      const mismatch = lineMismatch("C", [after], rest);
      if (mismatch !== null) {
        ctx.fail(mismatch.message, {
          clause: mismatch.decorated ? "§2.4" : "§2.1",
          cause: mismatch.decorated ? "decorated" : undefined,
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
      // 30 rounds, or as many as fit in 3 s (8 at least: a slow server
      // is measured, not waited for).
      const rounds = 30;
      const times: number[] = [];
      // Nagle holds the second line of a pair, a slow relay every line.
      const firstLine: number[] = [];
      const secondAfterFirst: number[] = [];
      const timeoutMs = ctx.wait(TIMEOUTS.line);
      const start = performance.now();
      for (let i = 0; i < rounds; i++) {
        if (i >= 8 && performance.now() - start > ctx.timeout(3000)) break;
        const t0 = performance.now();
        for (const [from, to] of [[a, b], [b, a]] as const) {
          const first = utf8(`ping ${i} ${from.name} 1`);
          const second = utf8(`ping ${i} ${from.name} 2`);
          const sent = performance.now();
          await from.sendMany([first, second]);
          let firstAt = NaN;
          const got = await to.collectUntil((bytes) => {
            if (endsWith(bytes, first)) firstAt = performance.now();
            return endsWith(bytes, second);
          }, { timeoutMs });
          if (i >= 5 && !Number.isNaN(firstAt)) {
            firstLine.push(firstAt - sent);
            secondAfterFirst.push(performance.now() - firstAt);
          }
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
      const firstMs = percentile(firstLine, 50);
      const secondMs = percentile(secondAfterFirst, 50);
      ctx.measure("firstLineMs", firstMs);
      ctx.measure("secondAfterFirstMs", secondMs);
      // Nagle with delayed ACKs holds only the second small write; a relay
      // that waits before each delivery holds the first as long.
      const slowRelay = firstMs > Math.max(5, secondMs / 2);
      if (median > limit) {
        ctx.fail(
          `a round of two small lines each way took ${
            median.toFixed(1)
          } ms (median of ${settled.length}): ` +
            (slowRelay
              ? `the server waits before it relays each line (the first of a pair took ${
                firstMs.toFixed(1)
              } ms, the second ${
                secondMs.toFixed(1)
              } ms more): it does not relay at once`
              : `the first of a pair came in ${
                firstMs.toFixed(1)
              } ms, the second ${
                secondMs.toFixed(1)
              } ms later: the server delays small writes (Nagle's algorithm with delayed ACKs?)`),
          {
            cause: slowRelay ? "slow-relay" : undefined,
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
  const timeoutMs = ctx.wait(TIMEOUTS.line);
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
