/**
 * How the readers of `flood.readers-keep-up` read: straight from the
 * socket at a fixed rate, in small reads, scanning for the paced lines of
 * the other chatters without framing the flood around them.
 *
 * @module
 */

import { concat, utf8 } from "../bytes.ts";
import type { CaseContext } from "../case.ts";
import { describeError } from "../describe_error.ts";
import type { Peer } from "../peer.ts";
import { noteEnd } from "./_helpers.ts";

const decoder = new TextDecoder();
const LF = 0x0a;
const CR = 0x0d;

/**
 * How fast each reader reads: a healthy rate (over a thousand times the
 * paced lines it gets), fixed, so that a server that relays the flood
 * faster without slowing the flooder down falls behind on every reader
 * whatever the machine, and one that slows it holds them no more than its
 * window. The readers scan what they read for the paced lines without
 * framing the flood, so the harness keeps this rate with little CPU and is
 * never a slow consumer by accident.
 */
const READ_BYTES_PER_SECOND = 4 * 1024 * 1024;
/** How often a reader reads (a small read each time, never a long pause). */
const READ_TICK_MS = 10;
/** The most a reader takes in one read after a pause. */
const READ_BURST_BYTES = 64 * 1024;

/** The byte every paced line starts with; flood and control lines lack it. */
const PACED_START = 0x70; // "p"

/**
 * What one reader saw of the room while the flood went on.
 *
 * @example
 * ```ts ignore
 * const view: ReaderView = { peer, next: new Map(), received: 0, lost: 0, gaps: [], disorder: 0, glued: 0, garbled: [], echoes: 0, ends: new Set(), latencies: [], bytes: 0, timedOut: false };
 * ```
 */
export interface ReaderView {
  peer: Peer;
  /** Per other chatter: the next sequence number expected. */
  next: Map<string, number>;
  /** Paced lines of the others received. */
  received: number;
  /** Paced lines skipped over (a later one of the same sender came). */
  lost: number;
  /** Where lines were lost, for the message. */
  gaps: string[];
  /** Paced lines that came again or out of order. */
  disorder: number;
  /** Paced lines glued onto other bytes (§2.7), still counted. */
  glued: number;
  /** Paced lines that could not be parsed. */
  garbled: string[];
  /** The reader's own lines sent back to it (§2.2). */
  echoes: number;
  /** The chatters whose end marker was received. */
  ends: Set<string>;
  /** Delivery latencies (ms) of the paced lines received. */
  latencies: number[];
  /** Bytes read. */
  bytes: number;
  /** How the server ended the connection, and when (ms into the flood). */
  cut?: { how: "eof" | "reset"; atMs: number; error?: string };
  /** The deadline passed with end markers still missing. */
  timedOut: boolean;
}

/**
 * What the flooder and the paced chatters sent.
 *
 * @example
 * ```ts
 * import type { FloodRun } from "./_paced_reader.ts";
 * const run: FloodRun = { floodBytes: 0, floodMs: 0, sent: new Map([["R1", 0]]), flooderBlocked: false, paced: false };
 * console.log(run.paced);
 * ```
 */
export interface FloodRun {
  /** Bytes the flooder had written when it stopped. */
  floodBytes: number;
  /** How long it flooded. */
  floodMs: number;
  /** Paced lines each chatter sent. */
  sent: Map<string, number>;
  /** The flooder was disconnected, and when (ms into the flood). */
  flooderCut?: { atMs: number; how: string };
  /** The flood's last write was still waiting when the flood ended. */
  flooderBlocked: boolean;
  /** Every chatter has sent its last paced line and its end marker. */
  paced: boolean;
}

/**
 * Paced line `seq` of chatter `name`, stamped with the time it was made.
 *
 * @example
 * ```ts
 * import { pacedLine } from "./_paced_reader.ts";
 * console.log(new TextDecoder().decode(pacedLine("c7", "R1", 12)).startsWith("p~c7~R1~000012~")); // true
 * ```
 */
export function pacedLine(tag: string, name: string, seq: number): Uint8Array {
  return utf8(
    `p~${tag}~${name}~${String(seq).padStart(6, "0")}~${
      performance.now().toFixed(2)
    }`,
  );
}

/**
 * The line a chatter sends after its last paced line.
 *
 * @example
 * ```ts
 * import { endMarker } from "./_paced_reader.ts";
 * console.log(new TextDecoder().decode(endMarker("c7", "R1"))); // "p~c7~R1~end"
 * ```
 */
export function endMarker(tag: string, name: string): Uint8Array {
  return utf8(`p~${tag}~${name}~end`);
}

/**
 * Reads `view.peer`'s socket directly, at READ_BYTES_PER_SECOND in small
 * reads, until every end marker in `ends` arrived (or, once pacing is over,
 * every line of those senders), the server ended the connection, or
 * `deadline.at` passed. Paced lines are found by their first byte; the
 * flood around them is only counted.
 *
 * @example
 * ```ts ignore
 * await readRoom(ctx, view, ["R2", "R3"], run, performance.now(), { at: performance.now() + 10_000 });
 * console.log(view.received, view.lost);
 * ```
 */
export async function readRoom(
  ctx: CaseContext,
  view: ReaderView,
  ends: readonly string[],
  run: FloodRun,
  t0: number,
  deadline: { at: number },
): Promise<void> {
  const conn = view.peer.client.conn;
  const buffer = new Uint8Array(READ_BURST_BYTES);
  const pattern = new RegExp(
    `^p~${ctx.tag}~(\\w+)~(?:(end)|(\\d+)~([\\d.]+))$`,
  );
  // A paced line cut by the end of a read, from its first byte.
  let carry: Uint8Array | undefined;
  let carryGlued = false;
  let last = LF;
  const line = (bytes: Uint8Array, glued: boolean, at: number) => {
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === CR) end--;
    const text = decoder.decode(bytes.subarray(0, end));
    const match = pattern.exec(text);
    if (match === null) {
      if (text.startsWith(`p~${ctx.tag}~`) && view.garbled.length < 5) {
        view.garbled.push(text);
      }
      return;
    }
    const [, sender, isEnd, seqText, sentAt] = match;
    if (sender === view.peer.name) {
      view.echoes++;
      return;
    }
    if (glued) view.glued++;
    if (isEnd) {
      view.ends.add(sender);
      return;
    }
    const seq = Number(seqText);
    const expected = view.next.get(sender) ?? 0;
    view.received++;
    view.latencies.push(at - Number(sentAt));
    if (seq > expected) {
      view.lost += seq - expected;
      if (view.gaps.length < 5) {
        view.gaps.push(
          seq - 1 === expected
            ? `${sender}'s #${expected}`
            : `${sender}'s #${expected}–#${seq - 1}`,
        );
      }
    } else if (seq < expected) {
      view.disorder++;
      return;
    }
    view.next.set(sender, seq + 1);
  };
  const scan = (chunk: Uint8Array) => {
    const at = performance.now();
    let offset = 0;
    if (carry !== undefined) {
      const lf = chunk.indexOf(LF);
      if (lf < 0) {
        // A paced line is short: a longer "line" is not one.
        carry = carry.length + chunk.length > 4096
          ? undefined
          : concat(carry, chunk);
        last = chunk[chunk.length - 1];
        return;
      }
      line(concat(carry, chunk.subarray(0, lf)), carryGlued, at);
      carry = undefined;
      offset = lf + 1;
    }
    while (offset < chunk.length) {
      const start = chunk.indexOf(PACED_START, offset);
      if (start < 0) break;
      const glued = (start > 0 ? chunk[start - 1] : last) !== LF;
      const lf = chunk.indexOf(LF, start);
      if (lf < 0) {
        carry = chunk.slice(start);
        carryGlued = glued;
        break;
      }
      line(chunk.subarray(start, lf), glued, at);
      offset = lf + 1;
    }
    last = chunk[chunk.length - 1];
  };
  // A token bucket: READ_BYTES_PER_SECOND, in reads every READ_TICK_MS.
  let credit = 0;
  let refilled = performance.now();
  let reading: Promise<number | null> | undefined;
  // Done when every other chatter's end marker came, or (when a server
  // lost it) every line it sent did.
  const complete = () =>
    ends.every((name) =>
      view.ends.has(name) ||
      (run.paced && (view.next.get(name) ?? 0) >= run.sent.get(name)!)
    );
  while (!complete()) {
    const left = deadline.at - performance.now();
    if (left <= 0) {
      view.timedOut = true;
      reading?.catch(() => {});
      return;
    }
    if (reading === undefined) {
      const now = performance.now();
      credit = Math.min(
        READ_BURST_BYTES,
        credit + (now - refilled) * READ_BYTES_PER_SECOND / 1000,
      );
      refilled = now;
      if (credit < 1024) {
        await new Promise((resolve) => setTimeout(resolve, READ_TICK_MS));
        continue;
      }
      reading = conn.read(buffer.subarray(0, Math.floor(credit)));
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    let n: number | null | "wait";
    try {
      n = await Promise.race([
        reading,
        new Promise<"wait">((resolve) =>
          timer = setTimeout(resolve, Math.min(left, 250), "wait")
        ),
      ]);
    } catch (error) {
      view.cut = {
        how: "reset",
        atMs: performance.now() - t0,
        error: describeError(error),
      };
      await noteEnd(view.peer);
      return;
    } finally {
      clearTimeout(timer);
    }
    if (n === "wait") continue;
    reading = undefined;
    if (n === null) {
      view.cut = { how: "eof", atMs: performance.now() - t0 };
      await noteEnd(view.peer);
      return;
    }
    view.bytes += n;
    credit -= n;
    scan(buffer.subarray(0, n));
  }
}
