/**
 * Limit cases (PROTOCOL.md §4): line length around and far over the
 * declared limit L, memory spent on unfinished lines, the largest line
 * relayed; then the client cases of `limits_clients.ts`.
 *
 * @module
 */

import { bytes, utf8 } from "../bytes.ts";
import type { CaseContext, CaseDefinition } from "../case.ts";
import { controlLine } from "../control_lines.ts";
import { describeError } from "../describe_error.ts";
import type { Peer } from "../peer.ts";
import type { RawPeer } from "../raw_peer.ts";
import { TIMEOUTS } from "../settings.ts";
import { filler, mib, size } from "./_helpers.ts";
import { CLIENT_LIMIT_CASES } from "./limits_clients.ts";
import {
  cyclic,
  describePieces,
  sendOverLong,
  writeWithin,
} from "./_over_long.ts";

/** Connects raw peers (which drop what they receive) and registers them. */
async function rawPeers(
  ctx: CaseContext,
  names: readonly string[],
): Promise<RawPeer[]> {
  const peers: RawPeer[] = [];
  for (const name of names) {
    const peer = await ctx.connectRaw(name);
    await ctx.join(peer);
    peers.push(peer);
  }
  return peers;
}

/** After stress: the others still chat, and a newcomer can join. */
async function roomStillWorks(
  ctx: CaseContext,
  a: Peer,
  b: Peer,
  clause: string,
): Promise<void> {
  const line = utf8(`still here (${ctx.tag})`);
  await a.send(line);
  if (!(await ctx.expectLines(b, [line], await ctx.sentinel(a), { clause }))) {
    return;
  }
  const d = await ctx.connect("D");
  await ctx.join(d);
  const hello = utf8(`hello D (${ctx.tag})`);
  await b.send(hello);
  await ctx.expectLines(d, [hello], await ctx.sentinel(b), { clause });
}

/** The line-length cases. */
const LINE_LIMIT_CASES: CaseDefinition[] = [
  {
    id: "limits.at-limit",
    clause: "§4.1",
    level: "MUST",
    requirement:
      "A line of exactly L bytes (the declared limit) is relayed intact, ended by LF or by CR LF",
    async run(ctx) {
      const L = ctx.maxLineBytes;
      const [a, b] = await ctx.room(["A", "B"]);
      const viaLf = filler(L, 11);
      const viaCrLf = filler(L, 12);
      ctx.note(`L = ${L}; the CR of CR LF must not count towards it`);
      await a.write(bytes(viaLf, "\n"));
      await a.write(bytes(viaCrLf, "\r\n"));
      await ctx.expectLines(b, [viaLf, viaCrLf], await ctx.sentinel(a), {
        timeoutMs: ctx.wait(TIMEOUTS.line + L / 1000),
      });
    },
  },
  {
    id: "limits.over-limit",
    clause: "§4.2",
    level: "MUST",
    requirement:
      "A line of L + 1 bytes is never relayed truncated (a prefix delivered as the whole line)",
    async run(ctx) {
      const [b] = await ctx.room(["B"]);
      const [s, f] = await rawPeers(ctx, ["S", "F"]);
      const outcome = await sendOverLong(ctx, s, [b], f, ctx.maxLineBytes + 1);
      if (outcome.relayed === "truncated") {
        ctx.fail(
          `a line of ${ctx.maxLineBytes + 1} bytes was relayed truncated: ${
            describePieces(outcome)
          }`,
        );
      } else {
        ctx.info(
          `${describePieces(outcome)}; sender ${
            outcome.senderClosed ? "disconnected" : "kept"
          }`,
        );
      }
      if (!outcome.settled) {
        ctx.fail("the receivers never got a sentinel after the line", {
          clause: "§3.2",
        });
      }
    },
  },
  {
    id: "limits.over-limit-policy",
    clause: "§4.4",
    level: "SHOULD",
    requirement:
      "The sender of a line over L is disconnected (or the line discarded); it is not split or relayed",
    async run(ctx) {
      const [b] = await ctx.room(["B"]);
      const [s, f] = await rawPeers(ctx, ["S", "F"]);
      const L = ctx.maxLineBytes;
      const outcome = await sendOverLong(ctx, s, [b], f, L + 1);
      ctx.measure("senderDisconnected", outcome.senderClosed);
      if (outcome.relayed === "split") {
        ctx.fail(
          `a line of ${L + 1} bytes was relayed in pieces (§4.3): ${
            describePieces(outcome)
          }`,
          {
            clause: "§4.3",
          },
        );
      } else if (outcome.relayed === "whole") {
        ctx.fail(
          `a line of ${L + 1} bytes was relayed whole${
            outcome.decorations.size > 0 ? ` (${describePieces(outcome)})` : ""
          }: the declared limit L = ${L} is not ` +
            "enforced (declare the server's real limit with --max-line-bytes)",
        );
      } else if (outcome.relayed === "truncated") {
        ctx.fail(
          `a line of ${
            L + 1
          } bytes was relayed truncated (see limits.over-limit): ` +
            describePieces(outcome),
        );
      } else if (outcome.relayed === "none") {
        ctx.info(
          outcome.senderClosed
            ? "the sender was disconnected and nothing of its line was relayed"
            : "the line was discarded and the sender kept (allowed by §4.4)",
        );
      }
    },
  },
  {
    id: "limits.huge-line",
    clause: "§4.2",
    level: "MUST",
    requirement:
      "A 16 MiB line: the server stays up, others are unaffected, no truncated remnant is relayed (split: non-strict)",
    budgetMs: 60_000,
    async run(ctx) {
      const [b, c] = await ctx.room(["B", "C"]);
      const [s, f] = await rawPeers(ctx, ["S", "F"]);
      const length = ctx.hugeLineBytes;
      const outcome = await sendOverLong(ctx, s, [b, c], f, length);
      ctx.measure("hugeLineBytes", length);
      ctx.measure("senderDisconnected", outcome.senderClosed);
      if (outcome.writeError) {
        ctx.note(`S's write failed: ${outcome.writeError}`);
      }
      switch (outcome.relayed) {
        case "truncated":
          ctx.fail(
            `the ${size(length)} line was relayed truncated: ${
              describePieces(outcome)
            }`,
          );
          break;
        case "split":
          ctx.nonStrict(
            `the ${size(length)} line was relayed in pieces: ${
              describePieces(outcome)
            }`,
            {
              clause: "§4.3",
            },
          );
          break;
        case "whole":
          ctx.info(
            `the ${
              size(length)
            } line was relayed whole: the server holds lines far longer ` +
              `than the declared L = ${ctx.maxLineBytes} (see limits.huge-line-memory, §4.5)`,
            { clause: "§4.5" },
          );
          break;
        default:
          ctx.info(
            `nothing of it was relayed; the sender was ${
              outcome.senderClosed ? "disconnected" : "kept"
            }`,
          );
      }
      if (!outcome.settled) {
        ctx.abort(
          "the receivers never got a sentinel after the huge line: the server stalled",
          {
            clause: "§4.5",
          },
        );
      }
      await roomStillWorks(ctx, b, c, "§4.5");
    },
  },
  {
    id: "limits.huge-line-memory",
    clause: "§4.5",
    level: "MUST",
    requirement:
      "Memory spent on unfinished lines stays about L however long they grow (3 × 16 MiB unfinished)",
    needs: ["spawn"],
    freshServer: true,
    budgetMs: 60_000,
    async run(ctx) {
      const server = ctx.server!;
      const [b, c] = await ctx.room(["B", "C"]);
      const [t, ...senders] = await rawPeers(ctx, ["T", "S1", "S2", "S3"]);
      const before = await server.sample();
      if (before === null) ctx.abort("the server is not running");
      const length = ctx.hugeLineBytes;
      const line = cyclic(length);
      const writeTimeout = ctx.wait(TIMEOUTS.line + length / (8 * 1024));
      const timeoutMs = ctx.wait(TIMEOUTS.line * 2 + length / 1024);
      // B and C read throughout; T's tick, once the writes are done, shows
      // that the server has read what it accepted.
      const tick = controlLine("tick", ctx.tag, "unfinished");
      b.quiet = c.quiet = true;
      // B and C read as long as the writes take, then a bounded time more.
      const deadline = { at: Infinity };
      const reading = [b, c].map((peer) =>
        peer.collectUntil(tick, { timeoutMs, deadline })
      );
      let written = 0;
      const sampled = await server.sampleWhile((async () => {
        await Promise.all(senders.map(async (s) => {
          try {
            for (let offset = 0; offset < length; offset += 1024 * 1024) {
              const piece = line.subarray(
                offset,
                Math.min(length, offset + 1024 * 1024),
              );
              await writeWithin(s, piece, writeTimeout);
              written += piece.length;
            }
          } catch (error) {
            ctx.note(`${s.name} stopped writing: ${describeError(error)}`);
          }
        }));
        deadline.at = performance.now() + ctx.wait(TIMEOUTS.line * 2);
        try {
          await t.send(tick);
        } catch (error) {
          ctx.abort(
            `the server closed T before the tick after the unfinished lines (${
              describeError(error)
            }): ` +
              "it relays pieces of unfinished lines (see limits.huge-line)",
            { clause: "§4.3" },
          );
        }
        const gots = await Promise.all(reading);
        if (gots.some((got) => got.end !== "found")) {
          ctx.skipPart(
            "the tick sent after the unfinished lines never came back as a line, so it is " +
              "not known whether the server had read them all when memory was sampled " +
              "(a server that relays partial lines glues the tick onto them: see relay.join-mid-line)",
            { clause: "§3.2" },
          );
        }
      })());
      b.quiet = c.quiet = false;
      const after = await server.sample();
      const growth = sampled.peakRssBytes - before!.rssBytes;
      const allowed = senders.length * 4 * ctx.maxLineBytes + 16 * 1024 * 1024;
      ctx.measure("rssBeforeBytes", before!.rssBytes);
      ctx.measure("rssPeakBytes", sampled.peakRssBytes);
      ctx.measure("rssGrowthBytes", growth);
      ctx.measure("unfinishedBytesSent", written);
      ctx.measure("hwmBeforeBytes", before!.hwmBytes);
      ctx.measure("hwmAfterBytes", after?.hwmBytes ?? null);
      const message =
        `resident memory ${
          growth > 0 ? `grew by ${mib(growth)}` : "did not grow"
        } ` +
        `while ${senders.length} clients ` +
        `sent ${mib(written)} of unfinished lines (allowed: ${mib(allowed)})`;
      if (growth > allowed) {
        ctx.fail(message, {
          data: { growthBytes: growth, allowedBytes: allowed },
        });
      } else {
        ctx.info(message);
      }
      for (const s of senders) s.close();
      // Still serving: checked with fresh clients, whose streams cannot hold
      // remnants of the unfinished lines (relaying those is §1.6's business).
      const [d, e] = await ctx.room(["D", "E"]);
      const serving = utf8(`still serving (${ctx.tag})`);
      await d.send(serving);
      await ctx.expectLines(e, [serving], await ctx.sentinel(d), {
        clause: "§4.5",
      });
    },
  },
  {
    id: "limits.largest-line",
    clause: "§4.1",
    level: "INFO",
    requirement:
      "The largest line the server relays intact (found by doubling, then bisecting)",
    budgetMs: 120_000,
    async run(ctx) {
      const [b] = await ctx.room(["B"]);
      const [f] = await rawPeers(ctx, ["F"]);
      let probes = 0;
      const intact = async (length: number): Promise<boolean> => {
        const [s] = await rawPeers(ctx, [`P${++probes}`]);
        const outcome = await sendOverLong(ctx, s, [b], f, length);
        if (!outcome.settled) {
          ctx.abort(
            `no sentinel came after a probe line of ${
              size(length)
            }: the server stalled`,
            {
              clause: "§4.5",
            },
          );
        }
        return outcome.relayed === "whole";
      };
      let ok = 0;
      let bad = 0;
      const cap = ctx.hugeLineBytes;
      for (let length = 1024; length <= cap; length *= 2) {
        if (await intact(length)) ok = length;
        else {
          bad = length;
          break;
        }
      }
      if (bad === 0) {
        ctx.measure("largestLineBytes", ok);
        ctx.info(
          `every line up to ${
            size(ok)
          } was relayed intact: no limit found below ${size(cap)}`,
        );
        return;
      }
      if (ok === 0) {
        ctx.measure("largestLineBytes", 0);
        ctx.info("not even a 1 KiB line was relayed intact");
        return;
      }
      while (bad - ok > 1 && probes < 48) {
        const mid = Math.floor((ok + bad) / 2);
        if (await intact(mid)) ok = mid;
        else bad = mid;
      }
      ctx.measure("largestLineBytes", ok);
      ctx.measure("probes", probes);
      const declared = ctx.maxLineBytes;
      ctx.info(
        `largest line relayed intact: ${ok} bytes` +
          (bad - ok > 1 ? ` (between ${ok} and ${bad})` : ` (${bad} was not)`) +
          (ok === declared
            ? "; matches the declared limit"
            : `; the declared limit is ${declared}`),
      );
    },
  },
];

/**
 * The limit cases: line length, then clients.
 *
 * @example
 * ```ts
 * import { LIMITS_CASES } from "./limits.ts";
 * console.log(LIMITS_CASES.map((c) => c.id));
 * ```
 */
export const LIMITS_CASES: CaseDefinition[] = [
  ...LINE_LIMIT_CASES,
  ...CLIENT_LIMIT_CASES,
];
