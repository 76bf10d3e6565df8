/**
 * The senders: the first `senders` clients, each writing numbered,
 * timestamped lines, either on a fixed schedule (open loop, `rate > 0`)
 * or keeping a window of lines in flight (closed loop, `rate: 0`).
 *
 * A {@linkcode SenderSet} keeps what it did in counters, a histogram and
 * a per-second timeline that merge exactly ({@linkcode SenderSet.transfer},
 * {@linkcode mergeSends}), so that senders can be spread over workers.
 * The closed loop needs to know how many of each sender's lines were
 * delivered, from wherever the receivers run: it asks
 * `delivered(sender)` (with workers, a sum over every worker's row of a
 * shared buffer), and while it waits is woken by its own receivers' reads
 * and by `deliveries()`, which resolves when another worker counted some.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { sleep } from "../_async.ts";
import {
  type HistogramTransfer,
  LatencyHistogram,
  type LatencySummary,
} from "../latency_histogram.ts";
import type { RunClock } from "./clock.ts";
import type { LoadConnection } from "./connection.ts";
import type { PayloadEncoder } from "./payload.ts";
import { RateSchedule, type RateSpec } from "./rate_schedule.ts";
import { Timeline, type TimelineTransfer } from "./timeline.ts";
import type { WindowBounds } from "./window.ts";
import { sleepUntil } from "./_util.ts";

const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));

/** One sending client. */
export interface Sender {
  /** Its client number (it is also receiver `index`). */
  readonly index: number;
  /** Its connection. */
  readonly conn: LoadConnection;
  /** Lines sent so far (the next sequence number). */
  sent: number;
  /** Start of its schedule (`performance.now()`, ms). */
  phaseMs: number;
  /** A write is pending: the socket has not taken the last batch. */
  writing: boolean;
  /** Lines fell due while a write was still pending (server not reading). */
  blocked: boolean;
  /** Wakes it while it waits for deliveries (closed loop). */
  wake: (() => void) | undefined;
}

/** What the senders did, as the report reads it. */
export interface SendSummary {
  /** Lines sent (whole run). */
  linesSent: number;
  /** Lines whose intended send time fell inside the window. */
  windowOffered: number;
  /** Intended time of the first line, run-clock µs (-1: none sent). */
  firstSendUs: number;
  /** Lines that waited because the socket would not take them. */
  blockedLines: number;
  /** How late lines left versus schedule, excluding waits on the server. */
  lag: LatencySummary;
  /** Milliseconds spent polling for precise send times. */
  spinMs: number;
}

/** A {@linkcode SenderSet}'s record as plain data, to post between workers. */
export interface SendTransfer {
  linesSent: number;
  windowOffered: number;
  firstSendUs: number;
  blockedLines: number;
  lag: HistogramTransfer;
  spinMs: number;
  timeline: TimelineTransfer;
}

/**
 * Adds up the records of several sender sets (one per worker), exactly:
 * counts summed, the earliest first send, lag histograms merged, and the
 * lines offered per second into `timeline`.
 *
 * @example
 * ```ts
 * import { RunClock } from "./clock.ts";
 * import { PayloadEncoder } from "./payload.ts";
 * import { mergeSends, SenderSet } from "./senders.ts";
 * const set = () => new SenderSet({
 *   encoder: new PayloadEncoder("ab12", 40), clock: new RunClock(),
 *   window: { startUs: 0, endUs: Infinity }, rate: 0, lines: null,
 *   inFlight: 8, spinMs: 0, delivered: () => 0,
 * });
 * console.log(mergeSends([set().transfer(), set().transfer()]).linesSent); // 0
 * ```
 */
export function mergeSends(
  transfers: readonly SendTransfer[],
  timeline?: Timeline,
): SendSummary {
  const lag = new LatencyHistogram();
  let firstSendUs = -1;
  for (const t of transfers) {
    const histogram = LatencyHistogram.fromTransfer(t.lag);
    lag.add(histogram);
    histogram.destroy();
    if (
      t.firstSendUs >= 0 && (firstSendUs < 0 || t.firstSendUs < firstSendUs)
    ) {
      firstSendUs = t.firstSendUs;
    }
    timeline?.merge(t.timeline);
  }
  const sum = (
    key: "linesSent" | "windowOffered" | "blockedLines" | "spinMs",
  ) => transfers.reduce((total, t) => total + t[key], 0);
  const summary = {
    linesSent: sum("linesSent"),
    windowOffered: sum("windowOffered"),
    firstSendUs,
    blockedLines: sum("blockedLines"),
    lag: lag.summary(),
    spinMs: sum("spinMs"),
  };
  lag.destroy();
  return summary;
}

/** Options for {@linkcode SenderSet}. */
export interface SenderSetOptions {
  /** Writes the payload lines. */
  encoder: PayloadEncoder;
  /** The run's clock. */
  clock: RunClock;
  /** The measured window: which lines count as offered in it. */
  window: WindowBounds;
  /**
   * Lines per second per sender (a number, or a ramp); 0 for the closed
   * loop.
   */
  rate: number | RateSpec;
  /**
   * With a ramp: how long after sending starts the ramp does (the
   * warm-up), ms.
   *
   * @default {0}
   */
  rampStartMs?: number;
  /**
   * Senders in the whole run (in every worker): the open loop spreads
   * sender `index` at `index / senderCount` of a period.
   *
   * @default {the senders of this set}
   */
  senderCount?: number;
  /**
   * Closed loop: besides {@linkcode SenderSet.wake}, what a waiting
   * sender also waits for: with workers, deliveries counted in another
   * worker (resolves when they were, or after a while).
   *
   * @default {undefined: only {@linkcode SenderSet.wake} wakes them}
   */
  deliveries?: () => Promise<void>;
  /** Each sender stops after this many lines (null: no limit). */
  lines: number | null;
  /** Closed loop: lines each sender keeps in flight. */
  inFlight: number;
  /** Open loop: poll this long before a line is due, ms (0: timers only). */
  spinMs: number;
  /** Deliveries of sender `index`'s lines so far (closed loop). */
  delivered: (index: number) => number;
  /**
   * Stops sending early.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * The sending clients and what they sent.
 *
 * @example
 * ```ts ignore
 * import { SenderSet } from "./senders.ts";
 * const senders = new SenderSet({ encoder, clock, window, rate: 100, lines: null, inFlight: 256, spinMs: 0, delivered: (i) => tally.bySender[i] });
 * senders.add(0, conn);
 * await senders.openLoop(performance.now(), performance.now() + 1000);
 * console.log(senders.summary().linesSent); // about 100
 * ```
 */
export class SenderSet {
  /** The senders, in index order. */
  readonly senders: Sender[] = [];
  /**
   * How late lines left versus schedule, µs, excluding waits on the
   * server (open loop); another worker's merges in with `add`.
   */
  readonly lag: LatencyHistogram = new LatencyHistogram();
  /** Lines offered per second of the window (by intended send time). */
  readonly timeline: Timeline;
  readonly #options: SenderSetOptions;
  readonly #rate: RateSpec;
  #blockedLines = 0;
  #windowOffered = 0;
  #firstSendUs = -1;
  #spinMs = 0;

  /** No senders yet; {@linkcode add} gives it connections. */
  constructor(options: SenderSetOptions) {
    this.#options = options;
    this.#rate = typeof options.rate === "number"
      ? { from: options.rate, to: options.rate, overMs: 0, steps: 0 }
      : options.rate;
    this.timeline = new Timeline(options.window);
  }

  /** Lines sent so far. */
  get linesSent(): number {
    let sent = 0;
    for (const sender of this.senders) sent += sender.sent;
    return sent;
  }

  /** Milliseconds spent polling so far. */
  get spinMs(): number {
    return this.#spinMs;
  }

  /** Takes client `index`'s connection as the next sender. */
  add(index: number, conn: LoadConnection): void {
    this.senders.push({
      index,
      conn,
      sent: 0,
      phaseMs: 0,
      writing: false,
      blocked: false,
      wake: undefined,
    });
  }

  /** What they sent, and how late. */
  summary(): SendSummary {
    return {
      linesSent: this.linesSent,
      windowOffered: this.#windowOffered,
      firstSendUs: this.#firstSendUs,
      blockedLines: this.#blockedLines,
      lag: this.lag.summary(),
      spinMs: this.#spinMs,
    };
  }

  /** What they sent, as plain data another thread merges (mergeSends). */
  transfer(): SendTransfer {
    return {
      linesSent: this.linesSent,
      windowOffered: this.#windowOffered,
      firstSendUs: this.#firstSendUs,
      blockedLines: this.#blockedLines,
      lag: this.lag.transfer(),
      spinMs: this.#spinMs,
      timeline: this.timeline.transfer(),
    };
  }

  /** Wakes closed-loop senders waiting for deliveries. */
  wake(): void {
    for (const sender of this.senders) {
      if (sender.wake !== undefined) sender.wake();
    }
  }

  /**
   * Open loop: line `k` of a sender is due at its phase + k / rate, from
   * `startMs` until `endMs` (`performance.now()`), whether or not the
   * server keeps up; lines held up by the server keep their intended
   * times.
   */
  async openLoop(startMs: number, endMs: number): Promise<void> {
    const { clock, encoder, signal } = this.#options;
    const senders = this.senders;
    if (senders.length === 0) {
      await sleepUntil(endMs);
      return;
    }
    const schedule = new RateSchedule(
      this.#rate,
      this.#options.rampStartMs ?? 0,
    );
    const periodMs = schedule.firstPeriodMs;
    // Spread the senders evenly over one period (of the first rate), by
    // their number in the whole run.
    const count = this.#options.senderCount ?? senders.length;
    senders.forEach((sender, i) => {
      const position = this.#options.senderCount === undefined
        ? i
        : sender.index;
      sender.phaseMs = startMs + (periodMs * position) / count;
    });
    const limit = this.#options.lines ?? Infinity;
    const spinMs = this.#options.spinMs;
    while (!signal?.aborted) {
      const now = performance.now();
      if (now >= endMs) break;
      let nextDue = endMs;
      let allDone = true;
      let waitingOnWrites = false;
      for (const sender of senders) {
        if (sender.sent >= limit) continue;
        allDone = false;
        const dueMs = sender.phaseMs + schedule.dueMs(sender.sent);
        if (dueMs > now) {
          if (dueMs < nextDue) nextDue = dueMs;
          continue;
        }
        if (sender.writing) {
          // The socket has not taken the last batch: the server is slow.
          // These lines keep their intended times and leave later.
          sender.blocked = true;
          waitingOnWrites = true;
          continue;
        }
        // Every line due by now, each stamped with its own intended time.
        const dueCount = Math.min(
          limit - sender.sent,
          schedule.dueBy(now - sender.phaseMs) - sender.sent,
        );
        const nowUs = clock.toUs(now);
        if (sender.blocked) {
          // Late because of the server, not the generator.
          this.#blockedLines += dueCount;
          sender.blocked = false;
        } else {
          this.lag.record(nowUs - clock.toUs(dueMs));
        }
        const batch = new Uint8Array(encoder.maxBatchBytes(dueCount));
        let offset = 0;
        for (let k = 0; k < dueCount; k++) {
          const seq = sender.sent + k;
          const intendedUs = clock.toUs(sender.phaseMs + schedule.dueMs(seq));
          offset = encoder.encodeInto(
            batch,
            offset,
            sender.index,
            seq,
            intendedUs,
            nowUs,
          );
          this.#countOffered(intendedUs);
        }
        sender.sent += dueCount;
        this.#send(sender, batch.subarray(0, offset));
        const nextSenderDue = sender.phaseMs + schedule.dueMs(sender.sent);
        if (sender.sent < limit && nextSenderDue < nextDue) {
          nextDue = nextSenderDue;
        }
      }
      if (allDone) break;
      // A sender whose lines are due but whose last write is still pending
      // has no next due time: look again shortly rather than sleeping
      // until the next sender's line (or the end of the run).
      if (waitingOnWrites) nextDue = Math.min(nextDue, now + 1);
      await this.#waitUntil(nextDue, spinMs);
    }
  }

  /**
   * Closed loop: until `endMs`, each sender keeps `inFlight` lines in
   * flight (sent, and not yet received by all `others` receivers),
   * refilling once half of them arrived.
   */
  async closedLoop(endMs: number, others: number): Promise<void> {
    const { clock, encoder, signal, delivered, deliveries } = this.#options;
    const window = this.#options.inFlight;
    const limit = this.#options.lines ?? Infinity;
    let stopTimer: ReturnType<typeof setTimeout> | undefined;
    const stop = new Promise<void>((resolve) =>
      stopTimer = setTimeout(resolve, Math.max(0, endMs - performance.now()))
    );
    const low = Math.floor(window / 2);
    await Promise.all(this.senders.map(async (sender) => {
      while (
        performance.now() < endMs && sender.sent < limit && !signal?.aborted
      ) {
        const inFlight = others > 0
          ? sender.sent - Math.floor(delivered(sender.index) / others)
          : 0;
        // Refill only once half the window has drained, so lines go out in
        // batches rather than one per delivery.
        const room = inFlight > low
          ? 0
          : Math.min(window - inFlight, limit - sender.sent);
        if (room <= 0 || sender.writing) {
          await Promise.race([
            new Promise<void>((resolve) => {
              sender.wake = resolve;
              deliveries?.().then(resolve);
            }),
            stop,
          ]);
          sender.wake = undefined;
          continue;
        }
        const nowUs = clock.nowUs();
        const batch = new Uint8Array(encoder.maxBatchBytes(room));
        let offset = 0;
        for (let k = 0; k < room; k++) {
          offset = encoder.encodeInto(
            batch,
            offset,
            sender.index,
            sender.sent + k,
            nowUs,
            nowUs,
          );
          this.#countOffered(nowUs);
        }
        sender.sent += room;
        this.#send(sender, batch.subarray(0, offset));
        if (others === 0) await sleep(0);
      }
    }));
    clearTimeout(stopTimer);
  }

  #countOffered(intendedUs: number): void {
    if (this.#firstSendUs < 0) this.#firstSendUs = intendedUs;
    const window = this.#options.window;
    if (intendedUs >= window.startUs && intendedUs < window.endUs) {
      this.#windowOffered++;
      this.timeline.offer(intendedUs);
    }
  }

  /** Writes a batch; the sender is busy until the socket took all of it. */
  #send(sender: Sender, batch: Uint8Array): void {
    sender.writing = true;
    sender.conn.writeLines(batch).catch(() => {
      // The server closed or reset the sender; its read loop counts it.
    }).finally(() => {
      sender.writing = false;
      sender.wake?.();
    });
  }

  /**
   * Waits until `atMs`: a timer until `spinMs` before, then polling with
   * `setImmediate` (which lets socket reads run) for the rest. Time spent
   * polling with nothing else to do is counted as spin, not work.
   */
  async #waitUntil(atMs: number, spinMs: number): Promise<void> {
    let left = atMs - performance.now();
    if (left > spinMs) {
      await sleep(left - spinMs);
      left = atMs - performance.now();
    }
    if (spinMs <= 0) {
      if (left > 0) await sleep(left);
      return;
    }
    while (left > 0) {
      const before = performance.now();
      await immediate();
      const after = performance.now();
      // A short turn did nothing but poll; a long one did real work.
      if (after - before < 0.05) this.#spinMs += after - before;
      left = atMs - after;
    }
  }
}
