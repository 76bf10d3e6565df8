/**
 * Slow-consumer cases (PROTOCOL.md §3.2, §4.6, §4.7): one client stops
 * reading while the others exchange tens of MiB.
 *
 * @module
 */

import type { CaseContext, CaseDefinition } from "../case.ts";
import { isControlLine } from "../control_lines.ts";
import { describeError } from "../describe_error.ts";
import { escapeBytes } from "../escape.ts";
import type { Peer } from "../peer.ts";
import { TIMEOUTS } from "../settings.ts";
import { mib, percentile, withTimeout } from "./_helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Bytes A and B send together in one flood: 24 MiB, or 4 times the
 * declared output bound if that is more.
 */
function floodBytes(ctx: CaseContext): number {
  return Math.max(24 * 1024 * 1024, 4 * ctx.settings.maxPendingBytes);
}
/** Bytes of each flood line, LF included. */
const LINE_BYTES = 1024;
/** Lines per write. */
const LINES_PER_WRITE = 64;
/**
 * Lines a sender may be ahead of what its reader has read. The harness
 * must not become a slow consumer itself: 256 KiB stays far below any
 * sane pending-output bound.
 */
const WINDOW_LINES = 256;

/** What a flood showed. */
interface Flood {
  linesPerSender: number;
  /** Delivery latencies (ms) of the lines A and B received. */
  latencies: number[];
  /** Why A or B stopped before the end, if they did. */
  stalls: string[];
  /** Lines A or B lost, got twice or out of order. */
  losses: string[];
  /**
   * Per receiver, lines that did not arrive intact (decorated, cut, bytes
   * inserted), and one of them: the server's framing, not a stall.
   */
  altered: Map<string, { count: number; example: Uint8Array }>;
  durationMs: number;
}

/** What the client that stopped reading got, once it read again. */
interface SlowView {
  /** How the server ended its connection, if it did. */
  closed: "eof" | "reset" | false;
  lines: number;
  bytes: number;
  /** Lines missing in the middle of what it got (dropped silently). */
  gaps: string[];
  /** Whether it got every line of the flood. */
  complete: boolean;
}

/** Whether a flood line is whole but has bytes before it (a prefix). */
function decoratedOnly(bytes: Uint8Array): boolean {
  const at = decoder.decode(bytes.subarray(0, 96)).indexOf("f~");
  return at > 0 && bytes.length === at + LINE_BYTES - 1;
}

/** Three clients in the room: A and B exchange, Z will stop reading. */
async function floodRoom(ctx: CaseContext): Promise<[Peer, Peer, Peer]> {
  const [a, z, b] = await ctx.room(["A", "Z", "B"], {
    readBufferBytes: 64 * 1024,
  });
  for (const peer of [a, z, b]) peer.quiet = true;
  ctx.note("Z stops reading now; A and B flood");
  return [a, z, b];
}

function floodLine(
  tag: string,
  round: number,
  name: string,
  seq: number,
): Uint8Array {
  const line = new Uint8Array(LINE_BYTES).fill(0x78);
  line[LINE_BYTES - 1] = 0x0a;
  encoder.encodeInto(
    `f~${tag}~${round}~${name}~${String(seq).padStart(7, "0")}~${
      performance.now().toFixed(2)
    }~`,
    line,
  );
  return line;
}

/**
 * A flood line's sender, number and time stamp, found anywhere in its
 * first bytes (a decorated line still counts); `"end"` for an end marker;
 * null for anything else. `intact` says whether the line is exactly as
 * sent (its length, nothing before it).
 */
function parse(
  bytes: Uint8Array,
): { sender: string; seq: number; t: number; intact: boolean } | "end" | null {
  const text = decoder.decode(bytes.subarray(0, 96));
  if (/f~[^~]+~\d+~\w+~end$/.test(text)) return "end";
  const match = /f~[^~]+~\d+~(\w+)~(\d+)~([\d.]+)~/.exec(text);
  return match
    ? {
      sender: match[1],
      seq: Number(match[2]),
      t: Number(match[3]),
      intact: match.index === 0 && bytes.length === LINE_BYTES - 1,
    }
    : null;
}

/**
 * A and B each send half of `bytes` in 1 KiB lines while reading the
 * other's; Z does not read. Every wait is bounded by the stall timeout.
 */
async function flood(
  ctx: CaseContext,
  [a, b]: [Peer, Peer],
  round: number,
  bytes = floodBytes(ctx),
): Promise<Flood> {
  const linesPerSender = Math.floor(bytes / 2 / LINE_BYTES);
  const stallMs = ctx.wait(TIMEOUTS.line * 2);
  const result: Flood = {
    linesPerSender,
    latencies: [],
    stalls: [],
    losses: [],
    altered: new Map(),
    durationMs: 0,
  };
  const t0 = performance.now();
  // Flow control: how far each receiver got, and a sender waiting on it.
  const progress = new Map([["A", 0], ["B", 0]]);
  const waiting = new Map<string, () => void>();
  const advance = (reader: string, next: number) => {
    progress.set(reader, next);
    waiting.get(reader)?.();
  };
  const send = async (peer: Peer) => {
    const reader = peer === a ? "B" : "A";
    try {
      for (let seq = 0; seq < linesPerSender; seq += LINES_PER_WRITE) {
        while (seq - progress.get(reader)! > WINDOW_LINES) {
          const moved = new Promise<void>((resolve) =>
            waiting.set(reader, resolve)
          );
          // A reader that stopped is reported by the reader; stop waiting.
          const stopped = await Promise.race([
            moved.then(() => false),
            new Promise<boolean>((resolve) =>
              setTimeout(resolve, stallMs, true)
            ),
          ]);
          if (stopped) return;
        }
        const count = Math.min(LINES_PER_WRITE, linesPerSender - seq);
        const chunk = new Uint8Array(count * LINE_BYTES);
        for (let k = 0; k < count; k++) {
          chunk.set(
            floodLine(ctx.tag, round, peer.name, seq + k),
            k * LINE_BYTES,
          );
        }
        await withTimeout(
          peer.write(chunk),
          stallMs,
          `no progress within ${stallMs} ms`,
        );
      }
      await peer.send(`f~${ctx.tag}~${round}~${peer.name}~end`);
    } catch (error) {
      result.stalls.push(
        `${peer.name} could not write for ${stallMs} ms (${
          describeError(error)
        }): ` +
          "the server stopped reading from it",
      );
    }
  };
  const receive = async (peer: Peer, from: string) => {
    let next = 0;
    const alter = (bytes: Uint8Array) => {
      const known = result.altered.get(peer.name);
      if (known) known.count++;
      else result.altered.set(peer.name, { count: 1, example: bytes });
    };
    while (true) {
      const outcome = await peer.read(stallMs);
      if (outcome.kind !== "line") {
        const altered = result.altered.get(peer.name);
        result.stalls.push(
          outcome.kind !== "timeout"
            ? `the server closed ${peer.name} after ${next} of ${from}'s lines`
            : altered
            ? `${from}'s end marker never reached ${peer.name} as a line of its own: ` +
              `${altered.count} of the lines it got were not intact (e.g. "${
                escapeBytes(altered.example, { maxBytes: 60 })
              }"), so the server's framing, not a stall, is what failed ` +
              `(nothing more came for ${stallMs} ms, with ${next} of ${from}'s ${linesPerSender} lines in)`
            : `${peer.name} received nothing for ${stallMs} ms, with ${next} of ${from}'s ` +
              `${linesPerSender} lines in: the server stalled`,
        );
        return;
      }
      const line = parse(outcome.line.bytes);
      if (line === "end") break;
      if (line === null) {
        if (!isControlLine(outcome.line.bytes)) alter(outcome.line.bytes);
        continue;
      }
      if (line.sender !== from) continue;
      if (!line.intact) alter(outcome.line.bytes);
      if (line.seq !== next && result.losses.length < 10) {
        result.losses.push(
          line.seq > next
            ? `${peer.name} lost ${from}'s lines #${next} to #${line.seq - 1}`
            : `${peer.name} got ${from}'s line #${line.seq} again or out of order`,
        );
      }
      next = Math.max(next, line.seq + 1);
      result.latencies.push(performance.now() - line.t);
      if (next % 32 === 0) advance(peer.name, next);
    }
    advance(peer.name, linesPerSender);
    if (next < linesPerSender) {
      result.losses.push(
        `${peer.name} got ${from}'s end marker after only ${next} lines`,
      );
    }
  };
  await Promise.all([send(a), send(b), receive(a, "B"), receive(b, "A")]);
  result.durationMs = performance.now() - t0;
  return result;
}

/** Z reads again: what did the server keep for it, and did it close it? */
async function readSlow(
  ctx: CaseContext,
  z: Peer,
  linesPerSender: number,
): Promise<SlowView> {
  const view: SlowView = {
    closed: false,
    lines: 0,
    bytes: 0,
    gaps: [],
    complete: false,
  };
  const next = new Map([["A", 0], ["B", 0]]);
  let ends = 0;
  const idleMs = ctx.timeout(1000);
  while (true) {
    const outcome = await z.read(idleMs);
    if (outcome.kind === "eof" || outcome.kind === "reset") {
      view.closed = outcome.kind;
      break;
    }
    if (outcome.kind !== "line") break;
    const line = parse(outcome.line.bytes);
    view.bytes += outcome.line.bytes.length + 2;
    if (line === "end") {
      if (++ends === 2) {
        view.complete = [...next.values()].every((n) => n === linesPerSender);
        break;
      }
      continue;
    }
    if (line === null || !next.has(line.sender)) continue;
    view.lines++;
    const expected = next.get(line.sender)!;
    if (line.seq > expected && view.gaps.length < 10) {
      view.gaps.push(`${line.sender}'s lines #${expected} to #${line.seq - 1}`);
    }
    next.set(line.sender, Math.max(expected, line.seq + 1));
  }
  return view;
}

function reportFlood(ctx: CaseContext, result: Flood): boolean {
  const lat = result.latencies;
  ctx.measure("linesPerSender", result.linesPerSender);
  ctx.measure("floodMs", result.durationMs);
  ctx.measure(
    "throughputMiBps",
    (result.latencies.length * LINE_BYTES) / 1024 / 1024 /
      (result.durationMs / 1000),
  );
  if (lat.length > 0) {
    ctx.measure("latencyP50Ms", percentile(lat, 50));
    ctx.measure("latencyP99Ms", percentile(lat, 99));
    ctx.measure("latencyMaxMs", Math.max(...lat));
  }
  // Lines that came altered explain what follows (a marker never seen).
  for (const [who, { count, example }] of result.altered) {
    ctx.fail(
      `${who} received ${count} flood lines that were not as sent (decorated, cut or with ` +
        `bytes inserted), e.g. "${
          escapeBytes(example, { maxBytes: 80 })
        }": the server does not relay lines intact`,
      {
        clause: "§2.4",
        data: { alteredLines: count },
        cause: decoratedOnly(example) ? "decorated" : undefined,
      },
    );
  }
  for (const stall of result.stalls) {
    ctx.fail(stall, {
      clause: result.altered.size > 0 ? "§1.4" : "§3.2",
    });
  }
  for (const loss of result.losses) ctx.fail(loss, { clause: "§2.3" });
  return result.stalls.length === 0 && result.losses.length === 0 &&
    result.altered.size === 0;
}

/**
 * A and B flood while Z does not read, then Z reads what it was sent; with
 * the flood's result and what Z got. `undefined` when the flood itself
 * failed (which `reportFlood` recorded).
 */
async function floodPastSlowReader(
  ctx: CaseContext,
): Promise<{ result: Flood; view: SlowView } | undefined> {
  const [a, z, b] = await floodRoom(ctx);
  const result = await flood(ctx, [a, b], 1);
  if (!reportFlood(ctx, result)) return undefined;
  const view = await readSlow(ctx, z, result.linesPerSender);
  return { result, view };
}

/**
 * The slow-consumer cases.
 *
 * @example
 * ```ts
 * import { SLOW_CONSUMER_CASES } from "./slow_consumer.ts";
 * console.log(SLOW_CONSUMER_CASES.map((c) => c.id));
 * ```
 */
export const SLOW_CONSUMER_CASES: CaseDefinition[] = [
  {
    id: "slow-consumer.others-unaffected",
    clause: "§4.6",
    level: "MUST",
    requirement:
      "While one client stops reading, the others exchange 24 MiB and get every line without stalling",
    budgetMs: 90_000,
    async run(ctx) {
      const [a, , b] = await floodRoom(ctx);
      const result = await flood(ctx, [a, b], 1);
      if (reportFlood(ctx, result)) {
        ctx.info(
          `A and B each got all ${result.linesPerSender} lines of the other; latency p50 ` +
            `${percentile(result.latencies, 50).toFixed(1)} ms, p99 ` +
            `${percentile(result.latencies, 99).toFixed(1)} ms`,
        );
      }
    },
  },
  {
    id: "slow-consumer.no-silent-drop",
    clause: "§2.3",
    level: "MUST",
    requirement:
      "A client that stops reading loses no line silently: it gets every line, or is disconnected",
    budgetMs: 90_000,
    async run(ctx) {
      const flooded = await floodPastSlowReader(ctx);
      if (flooded === undefined) return;
      const { result, view } = flooded;
      ctx.measure("slowReceivedBytes", view.bytes);
      if (view.gaps.length > 0) {
        ctx.fail(
          `Z, which stopped reading, silently lost ${view.gaps.join(", ")}` +
            (view.closed
              ? " before it was disconnected"
              : " and stayed connected"),
          { data: { receivedLines: view.lines, closed: view.closed } },
        );
      } else if (!view.closed && !view.complete) {
        ctx.fail(
          `Z stayed connected but got only ${view.lines} of the ${
            2 * result.linesPerSender
          } ` +
            "lines: the rest were dropped",
          { data: { receivedLines: view.lines } },
        );
      } else {
        ctx.info(
          view.closed
            ? `Z got a gapless ${mib(view.bytes)} and was then disconnected`
            : `Z got every line (${mib(view.bytes)}) once it read again`,
        );
      }
    },
  },
  {
    id: "slow-consumer.disconnect",
    clause: "§4.7",
    level: "SHOULD",
    requirement:
      "A client that stops reading is disconnected once its pending output passes the bound",
    budgetMs: 90_000,
    async run(ctx) {
      const flooded = await floodPastSlowReader(ctx);
      if (flooded === undefined) return;
      const { result, view } = flooded;
      const sent = 2 * result.linesPerSender * LINE_BYTES;
      ctx.measure("slowReceivedBytes", view.bytes);
      ctx.measure("slowDisconnected", view.closed !== false);
      if (view.closed) {
        ctx.info(
          `Z was disconnected (${view.closed}) after it had been sent ${
            mib(view.bytes)
          } ` +
            `of the ${mib(sent)} relayed meanwhile`,
        );
      } else {
        ctx.fail(
          `Z was not disconnected although it read nothing while ${
            mib(sent)
          } was relayed to it (declared bound: ${
            mib(ctx.settings.maxPendingBytes)
          }) ` +
            (view.complete
              ? "(reading again, it got every line: all were held for it)"
              : `(reading again, it got ${view.lines} of ${
                2 * result.linesPerSender
              } lines)`),
          { data: { receivedBytes: view.bytes, sentBytes: sent } },
        );
      }
    },
  },
  {
    id: "slow-consumer.memory",
    clause: "§4.6",
    level: "MUST",
    requirement:
      "The output held for a client that stops reading is bounded: memory does not grow with a second flood",
    needs: ["spawn"],
    freshServer: true,
    budgetMs: 120_000,
    async run(ctx) {
      const server = ctx.server!;
      const [a, , b] = await floodRoom(ctx);
      const before = await server.sample();
      const first = await server.sampleWhile(flood(ctx, [a, b], 1));
      if (!reportFlood(ctx, first.result)) return;
      const afterFirst = await server.sample();
      const second = await server.sampleWhile(flood(ctx, [a, b], 2));
      if (!reportFlood(ctx, second.result)) return;
      const afterSecond = await server.sample();
      if (!before || !afterFirst || !afterSecond) {
        ctx.abort("the server is not running");
      }
      const growth = afterSecond!.rssBytes - afterFirst!.rssBytes;
      const roundBytes = 2 * second.result.linesPerSender * LINE_BYTES;
      ctx.measure("rssBeforeBytes", before!.rssBytes);
      ctx.measure("rssAfterFirstBytes", afterFirst!.rssBytes);
      ctx.measure("rssAfterSecondBytes", afterSecond!.rssBytes);
      ctx.measure(
        "rssPeakBytes",
        Math.max(first.peakRssBytes, second.peakRssBytes),
      );
      const message =
        `resident memory ${
          growth > 0 ? `grew by ${mib(growth)}` : "did not grow"
        } ` +
        `during a second flood of ${
          mib(roundBytes)
        } while Z still did not read ` +
        `(${mib(before!.rssBytes)} → ${mib(afterFirst!.rssBytes)} → ${
          mib(afterSecond!.rssBytes)
        })`;
      if (growth > roundBytes / 2) {
        ctx.fail(
          `${message}: the server holds without bound for a client that does not read ` +
            `(or its bound is over ${
              mib(roundBytes / 2)
            }: declare it with --max-pending-bytes)`,
        );
      } else {
        ctx.info(message);
      }
    },
  },
];
