/**
 * Limit cases (PROTOCOL.md §4 and §2.1 at scale): line length around and
 * far over the declared limit L, memory spent on unfinished lines, many
 * clients at once, and the client limit.
 *
 * @module
 */

import type { ReceivedLine } from "../../client/chat_client.ts";
import { type CaseContext, TIMEOUTS } from "../context.ts";
import { describeError, endsWith, type Peer, type RawPeer } from "../peer.ts";
import type { CaseDefinition } from "../types.ts";
import { bytes, filler, mib, size, utf8 } from "./_helpers.ts";

/** Bytes of the over-long line, in a cycle a-z so any piece of it shows. */
function cyclic(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = 0x61 + (i % 26);
  return out;
}

/** Whether `line` is a run of the a-z cycle (a piece of a cyclic line). */
function isPiece(line: Uint8Array): boolean {
  if (line.length === 0) return false;
  for (let i = 0; i < line.length; i++) {
    const b = line[i];
    if (b < 0x61 || b > 0x7a) return false;
    if (i > 0 && b !== 0x61 + ((line[i - 1] - 0x61 + 1) % 26)) return false;
  }
  return true;
}

/** What became of one over-long line. */
interface OverLong {
  length: number;
  /** `whole`: relayed intact; `truncated`: less than all of it arrived. */
  relayed: "none" | "whole" | "truncated" | "split";
  /** The receivers' pieces of it (bytes of each piece). */
  pieces: Map<string, number[]>;
  /** Other unexpected lines, per receiver. */
  others: Map<string, ReceivedLine[]>;
  /** Whether the server closed the sender's connection. */
  senderClosed: boolean;
  /** A write error the sender saw, if any. */
  writeError?: string;
  /** Whether the receivers got a sentinel after it at all. */
  settled: boolean;
}

/**
 * `sender` writes a line of `length` cyclic bytes (in 1 MiB writes) and
 * its terminator while the receivers read; they read until a sentinel that
 * follows the line causally: the sender's own, or, once the server closed
 * the sender, one from `fallback`. Every piece of the line that arrived is
 * classified. Sender and fallback are raw peers: they drop what they
 * receive, so neither can fall behind as a slow consumer. The sender is
 * closed at the end.
 */
async function sendOverLong(
  ctx: CaseContext,
  sender: RawPeer,
  receivers: readonly Peer[],
  fallback: RawPeer,
  length: number,
  terminator = "\n",
): Promise<OverLong> {
  const line = cyclic(length);
  const result: OverLong = {
    length,
    relayed: "none",
    pieces: new Map(),
    others: new Map(),
    senderClosed: false,
    settled: true,
  };
  const ownSentinel = utf8(`lcc~end~${ctx.tag}~${sender.name}~after-${length}`);
  const fallbackSentinel = utf8(
    `lcc~end~${ctx.tag}~${fallback.name}~after-${length}`,
  );
  const either = (b: Uint8Array) =>
    endsWith(b, ownSentinel) || endsWith(b, fallbackSentinel);
  const timeoutMs = ctx.timeout(TIMEOUTS.line * 2 + length / (4 * 1024));
  const collecting = receivers.map((receiver) => {
    receiver.quiet = true;
    return receiver.collectUntil(either, { timeoutMs });
  });
  // When the server closes the sender, anything it relayed of the line was
  // relayed before; a sentinel from another client sent after that settles it.
  let done = false;
  sender.remoteClosed.then(async () => {
    if (done) return;
    result.senderClosed = true;
    await fallback.send(fallbackSentinel).catch(() => {});
  });
  const writeTimeout = ctx.timeout(TIMEOUTS.line + length / (8 * 1024));
  try {
    for (let offset = 0; offset < length; offset += 1024 * 1024) {
      await withTimeout(
        sender.write(
          line.subarray(offset, Math.min(length, offset + 1024 * 1024)),
        ),
        writeTimeout,
      );
    }
    await withTimeout(sender.write(terminator), writeTimeout);
    await sender.send(ownSentinel);
  } catch (error) {
    result.writeError = describeError(error);
  }
  const gots = await Promise.all(collecting);
  done = true;
  sender.close();
  for (const [i, got] of gots.entries()) {
    const receiver = receivers[i];
    receiver.quiet = false;
    if (got.end !== "found") result.settled = false;
    const pieces: number[] = [];
    const others: ReceivedLine[] = [];
    for (const l of got.lines) {
      if (isPiece(l.bytes)) pieces.push(l.bytes.length);
      else others.push(l);
    }
    result.pieces.set(receiver.name, pieces);
    result.others.set(receiver.name, others);
    ctx.note(
      `${receiver.name}: ${pieces.length} pieces of the ${size(length)} line ` +
        `(${pieces.map(size).join(", ") || "none"})`,
    );
  }
  for (const pieces of result.pieces.values()) {
    const total = pieces.reduce((n, p) => n + p, 0);
    const kind = pieces.length === 0
      ? "none"
      : pieces.length === 1 && total === length
      ? "whole"
      : total < length
      ? "truncated"
      : "split";
    const rank = { none: 0, whole: 1, split: 2, truncated: 3 } as const;
    if (rank[kind] > rank[result.relayed]) result.relayed = kind;
  }
  return result;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      timer = setTimeout(
        () => reject(new Error(`write did not complete within ${ms} ms`)),
        ms,
      )
    ),
  ]).finally(() => clearTimeout(timer));
}

function describePieces(outcome: OverLong): string {
  return [...outcome.pieces].map(([who, pieces]) =>
    `${who} got ${
      pieces.length === 0 ? "nothing" : pieces.map(size).join(" + ")
    }`
  ).join("; ");
}

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

/** The limit cases. */
export const LIMITS_CASES: CaseDefinition[] = [
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
        timeoutMs: ctx.timeout(TIMEOUTS.line + L / 1000),
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
          `a line of ${
            L + 1
          } bytes was relayed whole: the declared limit L = ${L} is not ` +
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
      const writeTimeout = ctx.timeout(TIMEOUTS.line + length / (8 * 1024));
      const timeoutMs = ctx.timeout(TIMEOUTS.line * 2 + length / 1024);
      // B and C read throughout; T's tick, once the writes are done, shows
      // that the server has read what it accepted.
      const tick = utf8(`lcc~ctl~tick~${ctx.tag}~unfinished`);
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
              await withTimeout(s.write(piece), writeTimeout);
              written += piece.length;
            }
          } catch (error) {
            ctx.note(`${s.name} stopped writing: ${describeError(error)}`);
          }
        }));
        deadline.at = performance.now() + ctx.timeout(TIMEOUTS.line * 2);
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
  {
    id: "limits.many-clients",
    clause: "§2.1",
    level: "MUST",
    requirement:
      "With many clients connected at once (--clients, default 500) every one receives each line",
    budgetMs: 120_000,
    async run(ctx) {
      const total = Math.max(
        3,
        Math.min(ctx.settings.clients, ctx.settings.maxClients ?? Infinity),
      );
      const t0 = performance.now();
      const [first, second] = await ctx.room(["C1", "C2"], { quiet: true });
      const rest: Peer[] = [];
      for (let i = 3; i <= total; i += 50) {
        const batch = await Promise.all(
          Array.from(
            { length: Math.min(50, total - i + 1) },
            (_, k) =>
              ctx.connect(`C${i + k}`, { quiet: true, readBufferBytes: 4096 }),
          ),
        );
        rest.push(...batch);
      }
      await ctx.joinMany(rest);
      ctx.measure("clients", total);
      ctx.measure("connectAndRegisterMs", performance.now() - t0);
      const everyone = [first, second, ...rest];
      const timeoutMs = ctx.timeout(TIMEOUTS.line * 2 + total * 4);
      for (const sender of [first, everyone[everyone.length - 1]]) {
        const line = utf8(`to all ${total} from ${sender.name} (${ctx.tag})`);
        const t1 = performance.now();
        await sender.send(line);
        const missed: string[] = [];
        await Promise.all(
          everyone.filter((p) => p !== sender).map(async (peer) => {
            const got = await peer.collectUntil(line, { timeoutMs });
            if (got.end !== "found") missed.push(peer.name);
          }),
        );
        ctx.measure(`fanOutMsFrom${sender.name}`, performance.now() - t1);
        if (missed.length > 0) {
          ctx.fail(
            `${missed.length} of ${
              total - 1
            } clients did not receive ${sender.name}'s line ` +
              `(e.g. ${
                missed.slice(0, 5).join(", ")
              }; C1 joined first, C${total} last)`,
            { data: { missed: missed.length, clients: total } },
          );
          return;
        }
      }
    },
  },
  {
    id: "limits.server-full",
    clause: "§4.8",
    level: "SHOULD",
    requirement:
      "A connection over the declared client limit is accepted and closed at once, receiving nothing",
    needs: ["max-clients"],
    budgetMs: 120_000,
    async run(ctx) {
      const max = ctx.settings.maxClients!;
      const [first, second] = await ctx.room(["C1", "C2"], { quiet: true });
      const members: Peer[] = [first, second];
      // Fill to a little under the limit in bulk (a client that just left
      // may still count for a moment), then one by one.
      const bulk = Math.max(0, max - 10 - 2);
      for (let i = 0; i < bulk; i += 50) {
        const batch = await Promise.all(
          Array.from(
            { length: Math.min(50, bulk - i) },
            (_, k) =>
              ctx.connect(`C${members.length + i + k + 1}`, {
                quiet: true,
                readBufferBytes: 4096,
              }),
          ),
        );
        await ctx.joinMany(batch);
        members.push(...batch);
      }
      const timeoutMs = ctx.timeout(TIMEOUTS.line);
      let rejected: Peer | undefined;
      let rejectedLines: ReceivedLine[] = [];
      while (members.length <= max + 10) {
        const x = await ctx.connect(`C${members.length + 1}`, { quiet: true });
        const token = utf8(`lcc~ctl~join~${ctx.tag}~${x.name}`);
        let sent = true;
        try {
          await x.send(token);
        } catch {
          sent = false;
        }
        const got = sent
          ? await first.collectUntil(token, { timeoutMs })
          : undefined;
        if (got?.end === "found") {
          members.push(x);
          continue;
        }
        const drained = await x.drainUntilClosed(ctx.timeout(TIMEOUTS.close));
        if (drained.closed) {
          rejected = x;
          rejectedLines = drained.lines;
          break;
        }
        ctx.abort(`${x.name} was neither registered nor closed`, {
          clause: "§4.8",
        });
      }
      ctx.measure("acceptedClients", members.length);
      if (!rejected) {
        ctx.fail(
          `no connection was refused up to ${members.length} clients (declared limit ${max})`,
        );
        return;
      }
      ctx.info(
        `${members.length} clients were registered; the next was closed at once`,
      );
      if (members.length > max) {
        ctx.fail(
          `${members.length} clients were registered, over the declared limit ${max}`,
        );
      }
      if (rejectedLines.length > 0) {
        ctx.fail(
          `the refused connection received ${rejectedLines.length} lines before being closed`,
          {
            received: { [rejected.name]: rejectedLines },
          },
        );
      }
      const line = utf8(`still serving all ${members.length} (${ctx.tag})`);
      await first.send(line);
      const missed: string[] = [];
      await Promise.all(
        members.slice(1).map(async (peer) => {
          const got = await peer.collectUntil(line, {
            timeoutMs: ctx.timeout(TIMEOUTS.line * 2),
          });
          if (got.end !== "found") missed.push(peer.name);
        }),
      );
      if (missed.length > 0) {
        ctx.fail(
          `${missed.length} connected clients missed a line after the refusal`,
          { clause: "§4.8" },
        );
      }
    },
  },
];
