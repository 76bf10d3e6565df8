/**
 * Over-long lines for the limit cases: a line of cyclic bytes written by a
 * raw peer while others read, and what became of it (relayed whole, in
 * pieces, truncated, or not at all).
 *
 * @module
 */

import type { ReceivedLine } from "../../client/chat_client.ts";
import { endsWith } from "../bytes.ts";
import type { CaseContext } from "../case.ts";
import { sentinelLine } from "../control_lines.ts";
import { describeError } from "../describe_error.ts";
import type { Peer } from "../peer.ts";
import type { RawPeer } from "../raw_peer.ts";
import { TIMEOUTS } from "../settings.ts";
import { size, withTimeout } from "./_helpers.ts";

/**
 * Bytes of the over-long line, in a cycle a-z so any piece of it shows.
 *
 * @example
 * ```ts
 * import { cyclic } from "./_over_long.ts";
 * console.log(new TextDecoder().decode(cyclic(28))); // "abcdefghijklmnopqrstuvwxyzab"
 * ```
 */
export function cyclic(length: number): Uint8Array {
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

/** A run shorter than this inside other bytes is taken as chance. */
const MIN_RUN = 16;

/**
 * How many bytes of `line` are content of a cyclic line, and how many
 * other bytes are mixed in: a line that is all cycle counts whole; in a
 * line with other bytes (a prefix spliced in before every piece, say),
 * runs of the cycle of at least MIN_RUN bytes count, and so does a short
 * run that ends the line and carries on the cycle where the run before it
 * stopped (the last piece after a splice).
 *
 * @example
 * ```ts
 * import { cyclic, cyclicContent } from "./_over_long.ts";
 * const e = new TextEncoder();
 * const line = new Uint8Array([...e.encode("A: "), ...cyclic(40), ...e.encode("A: "), 0x61 + 40 % 26]);
 * console.log(cyclicContent(line)); // { content: 41, other: 6, inserts: 2 }
 * ```
 */
export function cyclicContent(
  line: Uint8Array,
): { content: number; other: number; inserts: number } {
  if (isPiece(line)) return { content: line.length, other: 0, inserts: 0 };
  const next = (b: number) => 0x61 + ((b - 0x61 + 1) % 26);
  const isLetter = (b: number) => b >= 0x61 && b <= 0x7a;
  let content = 0;
  let inserts = 0;
  let lastCounted = -1;
  let inOther = false;
  let i = 0;
  while (i < line.length) {
    if (!isLetter(line[i])) {
      if (!inOther) inserts++;
      inOther = true;
      i++;
      continue;
    }
    let j = i + 1;
    while (j < line.length && line[j] === next(line[j - 1])) j++;
    const length = j - i;
    const continues = lastCounted !== -1 && line[i] === next(lastCounted);
    if (length >= MIN_RUN || (j === line.length && continues)) {
      content += length;
      lastCounted = line[j - 1];
      inOther = false;
    } else {
      if (!inOther) inserts++;
      inOther = true;
    }
    i = j;
  }
  return { content, other: line.length - content, inserts };
}

/**
 * What became of one over-long line.
 *
 * @example
 * ```ts
 * import type { OverLong } from "./_over_long.ts";
 * const outcome: OverLong = { length: 65537, relayed: "none", pieces: new Map([["B", []]]), decorations: new Map(), others: new Map(), senderClosed: true, settled: true };
 * console.log(outcome.relayed);
 * ```
 */
export interface OverLong {
  length: number;
  /** `whole`: relayed intact; `truncated`: less than all of it arrived. */
  relayed: "none" | "whole" | "truncated" | "split";
  /** The receivers' pieces of it (bytes of its content in each line). */
  pieces: Map<string, number[]>;
  /**
   * Per receiver, bytes that were not its content in the lines that
   * carried it (a prefix, spliced in), and how many places they were
   * inserted at: a line relayed decorated is still relayed.
   */
  decorations: Map<string, { bytes: number; inserts: number }>;
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
 *
 * @example
 * ```ts ignore
 * const [s, f] = await rawPeers(ctx, ["S", "F"]);
 * const outcome = await sendOverLong(ctx, s, [b], f, ctx.maxLineBytes + 1);
 * if (outcome.relayed === "truncated") ctx.fail(describePieces(outcome));
 * ```
 */
export async function sendOverLong(
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
    decorations: new Map(),
    others: new Map(),
    senderClosed: false,
    settled: true,
  };
  const ownSentinel = sentinelLine(ctx.tag, sender.name, `after-${length}`);
  const fallbackSentinel = sentinelLine(
    ctx.tag,
    fallback.name,
    `after-${length}`,
  );
  const either = (b: Uint8Array) =>
    endsWith(b, ownSentinel) || endsWith(b, fallbackSentinel);
  const timeoutMs = ctx.wait(TIMEOUTS.line * 2 + length / (4 * 1024));
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
  const writeTimeout = ctx.wait(TIMEOUTS.line + length / (8 * 1024));
  try {
    for (let offset = 0; offset < length; offset += 1024 * 1024) {
      await writeWithin(
        sender,
        line.subarray(offset, Math.min(length, offset + 1024 * 1024)),
        writeTimeout,
      );
    }
    await writeWithin(sender, terminator, writeTimeout);
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
    const decorated = { bytes: 0, inserts: 0 };
    for (const l of got.lines) {
      // Content, not exact bytes: a line holding any part of it relays it.
      const { content, other, inserts } = cyclicContent(l.bytes);
      if (content === 0) {
        others.push(l);
        continue;
      }
      pieces.push(content);
      decorated.bytes += other;
      decorated.inserts += inserts;
    }
    result.pieces.set(receiver.name, pieces);
    if (decorated.bytes > 0) result.decorations.set(receiver.name, decorated);
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

/**
 * What each receiver got of the line, in one line for a message.
 *
 * @example
 * ```ts
 * import { describePieces } from "./_over_long.ts";
 * console.log(describePieces({ length: 3, relayed: "split", pieces: new Map([["B", [1024, 1]]]), others: new Map(), senderClosed: false, settled: true }));
 * // "B got 1 KiB + 1 bytes"
 * ```
 */
export function describePieces(
  outcome: Pick<OverLong, "pieces"> & Partial<Pick<OverLong, "decorations">>,
): string {
  return [...outcome.pieces].map(([who, pieces]) => {
    const extra = outcome.decorations?.get(who);
    return `${who} got ${
      pieces.length === 0 ? "nothing" : pieces.map(size).join(" + ")
    }${
      extra
        ? ` of its content, with ${extra.bytes} other bytes inserted in ${extra.inserts} ${
          extra.inserts === 1 ? "place" : "places"
        } (decorated)`
        : ""
    }`;
  }).join("; ");
}

/**
 * `peer` writes `data`; rejects if the write does not complete within
 * `ms` (the server stopped reading).
 *
 * @example
 * ```ts ignore
 * await writeWithin(sender, line, ctx.wait(TIMEOUTS.line));
 * ```
 */
export function writeWithin(
  peer: RawPeer,
  data: string | Uint8Array,
  ms: number,
): Promise<void> {
  return withTimeout(
    peer.write(data),
    ms,
    `write did not complete within ${ms} ms`,
  );
}
