/**
 * Chat at a human pace among clients that read everything, while an
 * attack goes on around them: the yardstick of `flood`, `blocked-stdout`
 * and `slowloris`. Every member sends numbered, timestamped lines on a
 * fixed schedule and reads as fast as it can; every delivery is accounted
 * for (delivered, late, lost, duplicated) and its latency recorded from
 * the line's intended send time, so a server that stalls its readers
 * cannot hide it.
 *
 * @module
 */

import { LatencyHistogram, type LatencySummary } from "../latency_histogram.ts";
import {
  type MarkedLine,
  markedLine,
  MarkedLineScanner,
} from "./marked_lines.ts";

/** Options for {@linkcode PacedChat}. */
export interface PacedChatOptions {
  /**
   * Lines per second each member sends.
   *
   * @default {10}
   */
  rate?: number;
  /**
   * Tells this run's lines from anything else in the room.
   *
   * @default {a random 4-letter tag}
   */
  tag?: string;
  /**
   * Bytes per read: big, so a member reads a flood in few reads.
   *
   * @default {262144}
   */
  readBufferBytes?: number;
  /**
   * Names of the phases, in order; lines are labelled with the phase they
   * were sent in, and latencies are summarised per phase.
   *
   * @default {["run"]}
   */
  phases?: readonly string[];
  /**
   * Called for marked lines that are not chat lines (probes), with the
   * member that read them.
   *
   * @default {undefined}
   */
  onMarked?: (line: MarkedLine, member: number) => void;
  /**
   * Called for every chat line delivered, with its latency in ms.
   *
   * @default {undefined}
   */
  onDelivery?: (latencyMs: number) => void;
}

/** How a member's connection ended, if the server ended it. */
export interface MemberCut {
  /** `performance.now()` when it was seen, ms. */
  atMs: number;
  /** `eof` (a FIN) or `reset` (an error on read or write). */
  how: "eof" | "reset";
}

/** The chat's delivery accounting at one moment. */
export interface ChatAccounting {
  /** Lines the members sent (written to the socket). */
  linesSent: number;
  /**
   * Deliveries expected: each line to every other member that was still
   * connected when it was sent.
   */
  expected: number;
  /** Expected deliveries that arrived (each counted once). */
  delivered: number;
  /** Expected deliveries to members the server cut that never arrived. */
  missingAtCutMembers: number;
  /** Lines that arrived again. */
  duplicated: number;
  /** Lines that arrived after a later line of the same sender. */
  reordered: number;
  /** A member's own lines sent back to it. */
  echoed: number;
}

/** Latency of chat lines by the phase they were sent in. */
export type PhaseLatency = Record<string, LatencySummary>;

const LINE_KIND = "c";
const JOIN_KIND = "j";

/**
 * Tells this run's lines apart: four random letters, never `p` (which
 * marks the start of the harness's lines).
 *
 * @example
 * ```ts
 * import { randomTag } from "./paced_chat.ts";
 * console.log(/^[a-oq-z]{4}$/.test(randomTag())); // true
 * ```
 */
export function randomTag(): string {
  const letters = "abcdefghijklmnoqrstuvwxyz"; // no "p": it marks lines
  let tag = "";
  for (let i = 0; i < 4; i++) tag += letters[Math.floor(Math.random() * 25)];
  return tag;
}

interface Member {
  conn: Deno.Conn;
  scanner: MarkedLineScanner;
  bytesRead: number;
  cut: MemberCut | undefined;
  /** Per sender: which of its sequence numbers arrived. */
  got: Uint8Array[];
  /** Per sender: how many of its lines arrived. */
  gotCount: number[];
  /** Per sender: the highest sequence number seen, or -1. */
  highest: number[];
  /** Lines queued (encoded) while a write is pending, with queue times. */
  queue: { bytes: Uint8Array; atMs: number }[];
  writing: boolean;
  /** Queue times of the lines written, by sequence number. */
  sentAt: number[];
  /** Phase of each line, by sequence number (queued or written). */
  sentPhase: number[];
  /** Sequence numbers handed out (queued or written). */
  nextSeq: number;
  /** When the next line is due, `performance.now()` ms. */
  nextDueMs: number;
}

/**
 * Members chatting at `rate` lines per second each, over connections the
 * caller opened. {@linkcode PacedChat.start} starts reading and sending;
 * {@linkcode PacedChat.stopSending} and {@linkcode PacedChat.drain} end it.
 *
 * @example
 * ```ts ignore
 * import { PacedChat } from "./paced_chat.ts";
 * const chat = new PacedChat(conns, { rate: 10 });
 * chat.start();
 * await new Promise((r) => setTimeout(r, 5000));
 * await chat.stopSending();
 * await chat.drain(2000);
 * console.log(chat.accounting(), chat.latency());
 * chat.close();
 * ```
 */
export class PacedChat {
  /** The run's tag. */
  readonly tag: string;
  readonly #members: Member[];
  readonly #intervalMs: number;
  readonly #readBufferBytes: number;
  readonly #phases: readonly string[];
  readonly #histograms: LatencyHistogram[];
  readonly #onMarked: PacedChatOptions["onMarked"];
  readonly #onDelivery: PacedChatOptions["onDelivery"];
  #phase = 0;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #sending = false;
  #closing = false;
  #readers: Promise<void>[] = [];
  #duplicated = 0;
  #reordered = 0;
  #echoed = 0;
  #foreign = 0;
  readonly #joined = new Set<number>();
  #closed: Promise<void> | undefined;

  /** Wraps `conns`, one member each; see {@linkcode PacedChatOptions}. */
  constructor(conns: readonly Deno.Conn[], options: PacedChatOptions = {}) {
    this.tag = options.tag ?? randomTag();
    this.#intervalMs = 1000 / (options.rate ?? 10);
    this.#readBufferBytes = options.readBufferBytes ?? 256 * 1024;
    this.#phases = options.phases ?? ["run"];
    this.#histograms = this.#phases.map(() => new LatencyHistogram());
    this.#onMarked = options.onMarked;
    this.#onDelivery = options.onDelivery;
    this.#members = conns.map((conn, index) => ({
      conn,
      scanner: new MarkedLineScanner((line) => this.#onLine(index, line)),
      bytesRead: 0,
      cut: undefined,
      got: conns.map(() => new Uint8Array(64)),
      gotCount: conns.map(() => 0),
      highest: conns.map(() => -1),
      queue: [],
      writing: false,
      sentAt: [],
      sentPhase: [],
      nextSeq: 0,
      nextDueMs: 0,
    }));
  }

  /** How many members there are. */
  get size(): number {
    return this.#members.length;
  }

  /** Starts every member's read loop (once). */
  open(): void {
    if (this.#readers.length > 0) return;
    for (const index of this.#members.keys()) {
      this.#readers.push(this.#read(index));
    }
  }

  /**
   * Makes sure every member is in the room before lines are counted:
   * members 0 and 1 send a probe every 200 ms until every member has
   * received one from another member. Resolves false if that takes over
   * `timeoutMs`.
   */
  async join(timeoutMs = 10_000): Promise<boolean> {
    this.open();
    if (this.#members.length < 2) return true;
    const deadline = performance.now() + timeoutMs;
    let round = 0;
    while (this.#joined.size < this.#members.length) {
      if (performance.now() > deadline) return false;
      for (const from of [0, 1]) {
        const probe = markedLine(JOIN_KIND, [this.tag, from, round]);
        try {
          await this.#members[from].conn.write(probe);
        } catch {
          return false;
        }
      }
      round++;
      const until = performance.now() + 200;
      while (
        this.#joined.size < this.#members.length && performance.now() < until
      ) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    // Let the last probes arrive everywhere before counting starts.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return true;
  }

  /** Starts the read loops (if not yet) and the send schedule. */
  start(): void {
    this.open();
    const now = performance.now();
    const count = this.#members.length;
    for (const [index, member] of this.#members.entries()) {
      // Spread the members over one interval, so lines do not come in bursts.
      member.nextDueMs = now + (index / count) * this.#intervalMs;
    }
    this.#sending = true;
    this.#ticker = setInterval(() => this.#tick(), 5);
  }

  /** Labels lines sent from now on with the phase called `name`. */
  setPhase(name: string): void {
    const index = this.#phases.indexOf(name);
    if (index === -1) throw new RangeError(`unknown phase "${name}"`);
    this.#phase = index;
  }

  /** Stops sending and waits (at most `timeoutMs`) for pending writes. */
  async stopSending(timeoutMs = 2000): Promise<void> {
    this.#sending = false;
    clearInterval(this.#ticker);
    const deadline = performance.now() + timeoutMs;
    while (
      this.#members.some((m) => m.writing && m.cut === undefined) &&
      performance.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /**
   * Waits until every expected delivery arrived, or `maxMs` passed;
   * resolves with the milliseconds waited.
   */
  async drain(maxMs: number): Promise<number> {
    const t0 = performance.now();
    while (performance.now() - t0 < maxMs) {
      const a = this.accounting();
      if (a.delivered + a.missingAtCutMembers >= a.expected) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return Math.round(performance.now() - t0);
  }

  /** The delivery accounting so far. */
  accounting(): ChatAccounting {
    let linesSent = 0;
    let expected = 0;
    let delivered = 0;
    let missingAtCutMembers = 0;
    for (const sender of this.#members) linesSent += sender.sentAt.length;
    for (const [r, receiver] of this.#members.entries()) {
      const cutAt = receiver.cut?.atMs ?? Infinity;
      for (const [s, sender] of this.#members.entries()) {
        if (s === r) continue;
        const got = receiver.got[s];
        if (receiver.cut === undefined) {
          // The common case, without a walk over every line.
          expected += sender.sentAt.length;
          delivered += Math.min(receiver.gotCount[s], sender.sentAt.length);
          continue;
        }
        for (let seq = 0; seq < sender.sentAt.length; seq++) {
          if (sender.sentAt[seq] >= cutAt) break;
          expected++;
          if (got[seq] === 1) delivered++;
          else if (receiver.cut !== undefined) missingAtCutMembers++;
        }
      }
    }
    return {
      linesSent,
      expected,
      delivered,
      missingAtCutMembers,
      duplicated: this.#duplicated,
      reordered: this.#reordered,
      echoed: this.#echoed,
    };
  }

  /** Latency of the lines delivered, by the phase they were sent in. */
  latency(): PhaseLatency {
    const result: PhaseLatency = {};
    for (const [index, name] of this.#phases.entries()) {
      result[name] = this.#histograms[index].summary();
    }
    return result;
  }

  /** Latency of every line delivered, whatever its phase. */
  latencyOverall(): LatencySummary {
    const all = new LatencyHistogram();
    for (const histogram of this.#histograms) all.add(histogram);
    const summary = all.summary();
    all.destroy();
    return summary;
  }

  /** How each member's connection ended, if the server ended it. */
  cuts(): (MemberCut | undefined)[] {
    return this.#members.map((member) => member.cut);
  }

  /** Bytes each member has read. */
  bytesRead(): number[] {
    return this.#members.map((member) => member.bytesRead);
  }

  /** Lines with this run's mark but not its tag, or unreadable. */
  get foreign(): number {
    return this.#foreign;
  }

  /** Closes every connection and waits for the read loops to end. */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#sending = false;
    this.#closing = true;
    clearInterval(this.#ticker);
    for (const member of this.#members) {
      try {
        member.conn.close();
      } catch {
        // Closed already.
      }
    }
    await Promise.all(this.#readers);
    for (const histogram of this.#histograms) histogram.destroy();
  }

  #tick(): void {
    if (!this.#sending) return;
    const now = performance.now();
    for (const [index, member] of this.#members.entries()) {
      if (member.cut !== undefined) continue;
      while (member.nextDueMs <= now) {
        member.queue.push({
          bytes: markedLine(LINE_KIND, [
            this.tag,
            index,
            member.nextSeq++,
            Math.round(member.nextDueMs * 1000), // µs
          ]),
          // The intended time: a line held up behind a blocked write
          // keeps it, so the wait counts in its latency.
          atMs: member.nextDueMs,
        });
        member.sentPhase.push(this.#phase);
        member.nextDueMs += this.#intervalMs;
      }
      if (!member.writing && member.queue.length > 0) this.#write(member);
    }
  }

  async #write(member: Member): Promise<void> {
    member.writing = true;
    try {
      while (member.queue.length > 0 && member.cut === undefined) {
        const batch = member.queue.splice(0, member.queue.length);
        const bytes = batch.length === 1 ? batch[0].bytes : concat(batch);
        let written = 0;
        while (written < bytes.length) {
          written += await member.conn.write(bytes.subarray(written));
        }
        for (const line of batch) member.sentAt.push(line.atMs);
      }
    } catch {
      if (!this.#closing) {
        member.cut ??= { atMs: performance.now(), how: "reset" };
      }
    } finally {
      member.writing = false;
    }
  }

  async #read(index: number): Promise<void> {
    const member = this.#members[index];
    const buffer = new Uint8Array(this.#readBufferBytes);
    while (true) {
      let n: number | null;
      try {
        n = await member.conn.read(buffer);
      } catch {
        if (!this.#closing) {
          member.cut ??= { atMs: performance.now(), how: "reset" };
        }
        return;
      }
      if (n === null) {
        if (!this.#closing) {
          member.cut ??= { atMs: performance.now(), how: "eof" };
        }
        return;
      }
      member.bytesRead += n;
      member.scanner.push(buffer.subarray(0, n));
    }
  }

  #onLine(index: number, line: MarkedLine): void {
    if (line.kind === JOIN_KIND) {
      if (line.fields[0] === this.tag && line.fields[1] !== String(index)) {
        this.#joined.add(index);
      }
      return;
    }
    if (line.kind !== LINE_KIND) {
      this.#onMarked?.(line, index);
      return;
    }
    const now = performance.now();
    const [tag, senderText, seqText, atText] = line.fields;
    const sender = Number(senderText);
    const seq = Number(seqText);
    const sentAt = Number(atText) / 1000;
    if (
      tag !== this.tag || !(sender >= 0 && sender < this.#members.length) ||
      !Number.isInteger(seq) || seq < 0 || !Number.isFinite(sentAt)
    ) {
      this.#foreign++;
      return;
    }
    if (sender === index) {
      this.#echoed++;
      return;
    }
    const member = this.#members[index];
    let got = member.got[sender];
    if (seq >= got.length) {
      const grown = new Uint8Array(Math.max(seq + 1, got.length * 2));
      grown.set(got);
      got = member.got[sender] = grown;
    }
    if (got[seq] === 1) {
      this.#duplicated++;
      return;
    }
    got[seq] = 1;
    member.gotCount[sender]++;
    if (seq < member.highest[sender]) this.#reordered++;
    else member.highest[sender] = seq;
    const phase = this.#members[sender].sentPhase[seq] ?? this.#phase;
    this.#histograms[phase].record((now - sentAt) * 1000);
    this.#onDelivery?.(now - sentAt);
  }
}

function concat(lines: readonly { bytes: Uint8Array }[]): Uint8Array {
  let length = 0;
  for (const line of lines) length += line.bytes.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const line of lines) {
    out.set(line.bytes, offset);
    offset += line.bytes.length;
  }
  return out;
}
