/**
 * Delivery accounting: what each receiver has seen of each sender's
 * lines, and the run's counts and latency histograms.
 *
 * Everything here is merge-friendly, so that receivers can run in several
 * workers: a {@linkcode DeliveryTally} is plain counters, one count per
 * sender, two HDR histograms and a per-second {@linkcode Timeline}; a
 * worker posts its {@linkcode DeliveryTally.transfer} (each histogram's
 * compressed form) and the parent adds it with
 * {@linkcode DeliveryTally.mergeTransfer}, exactly. A
 * {@linkcode SequenceTracker} belongs to one receiver and is never shared;
 * each worker has its own {@linkcode GapBudget}, a share of
 * {@linkcode MAX_TRACKED_GAPS}.
 *
 * @module
 */

import {
  type HistogramTransfer,
  LatencyHistogram,
  type LatencySummary,
} from "../latency_histogram.ts";
import { Timeline, type TimelineTransfer } from "./timeline.ts";
import type { WindowBounds } from "./window.ts";

/**
 * Most gap entries remembered (all receivers) to tell reordered lines from duplicates.
 *
 * @example
 * ```ts
 * import { GapBudget, MAX_TRACKED_GAPS } from "./accounting.ts";
 * console.log(new GapBudget().left === MAX_TRACKED_GAPS); // true
 * ```
 */
export const MAX_TRACKED_GAPS = 1_000_000;

/**
 * A line that arrived for the first time, in order or after a gap.
 *
 * @example
 * ```ts
 * import { GapBudget, IN_ORDER, SequenceTracker } from "./accounting.ts";
 * console.log(new SequenceTracker(1, new GapBudget()).see(0, 0) === IN_ORDER); // true
 * ```
 */
export const IN_ORDER = 0;
/**
 * A line that arrived for the first time, after a later line of its sender.
 *
 * @example
 * ```ts
 * import { GapBudget, REORDERED, SequenceTracker } from "./accounting.ts";
 * const seen = new SequenceTracker(1, new GapBudget());
 * seen.see(0, 1);
 * console.log(seen.see(0, 0) === REORDERED); // true
 * ```
 */
export const REORDERED = 1;
/**
 * A line that arrived again.
 *
 * @example
 * ```ts
 * import { DUPLICATE, GapBudget, SequenceTracker } from "./accounting.ts";
 * const seen = new SequenceTracker(1, new GapBudget());
 * seen.see(0, 0);
 * console.log(seen.see(0, 0) === DUPLICATE); // true
 * ```
 */
export const DUPLICATE = 2;
/** How a line arrived: {@linkcode IN_ORDER}, {@linkcode REORDERED} or {@linkcode DUPLICATE}. */
export type Arrival = typeof IN_ORDER | typeof REORDERED | typeof DUPLICATE;

/**
 * How many skipped sequence numbers the trackers sharing it may remember
 * in all (each costs a `Set` entry). Past it, a late line counts as a
 * duplicate, not as reordered.
 *
 * @example
 * ```ts
 * import { GapBudget } from "./accounting.ts";
 * console.log(new GapBudget(10).left); // 10
 * ```
 */
export class GapBudget {
  /** Entries that may still be remembered. */
  left: number;

  /** A budget of `limit` entries. */
  constructor(limit: number = MAX_TRACKED_GAPS) {
    this.left = limit;
  }
}

/**
 * One receiver's view of every sender's sequence: the highest number
 * seen, and the numbers skipped over and not seen yet.
 *
 * @example
 * ```ts
 * import { DUPLICATE, GapBudget, IN_ORDER, REORDERED, SequenceTracker } from "./accounting.ts";
 *
 * const seen = new SequenceTracker(1, new GapBudget());
 * console.log([0, 2, 1, 1].map((seq) => seen.see(0, seq)));
 * // [IN_ORDER, IN_ORDER, REORDERED, DUPLICATE] = [0, 0, 1, 2]
 * ```
 */
export class SequenceTracker {
  /** Highest sequence number seen, per sender (-1: none). */
  readonly high: Float64Array;
  #gaps: Map<number, Set<number>> | undefined;
  readonly #budget: GapBudget;

  /** Tracks `senders` senders, remembering gaps within `budget`. */
  constructor(senders: number, budget: GapBudget) {
    this.high = new Float64Array(senders).fill(-1);
    this.#budget = budget;
  }

  /** Notes line `seq` of `sender` and says how it arrived. */
  see(sender: number, seq: number): Arrival {
    const high = this.high[sender];
    if (seq === high + 1) {
      this.high[sender] = seq;
      return IN_ORDER;
    }
    if (seq > high + 1) {
      this.high[sender] = seq;
      this.#remember(sender, high + 1, seq);
      return IN_ORDER;
    }
    return this.#fill(sender, seq) ? REORDERED : DUPLICATE;
  }

  #remember(sender: number, from: number, to: number): void {
    if (to - from > this.#budget.left) return;
    this.#gaps ??= new Map();
    let gaps = this.#gaps.get(sender);
    if (!gaps) this.#gaps.set(sender, gaps = new Set());
    for (let seq = from; seq < to; seq++) gaps.add(seq);
    this.#budget.left -= to - from;
  }

  #fill(sender: number, seq: number): boolean {
    if (!this.#gaps?.get(sender)?.delete(seq)) return false;
    this.#budget.left++;
    return true;
  }
}

/** A tally's counts and latency percentiles, as the report reads them. */
export interface TallySummary {
  /** Distinct lines received (each line and receiver counted once). */
  delivered: number;
  /** Lines received again after their first delivery. */
  duplicated: number;
  /** Lines that arrived after a later line of the same sender. */
  reordered: number;
  /** Lines a client received from itself. */
  echoed: number;
  /** Lines without this run's tag (banners, fragments). */
  foreign: number;
  /** Lines with this run's tag but a broken payload (cut or merged). */
  malformed: number;
  /** Deliveries received inside the measured window. */
  windowDelivered: number;
  /** Run-clock µs of the last delivery (0: none). */
  lastDeliveryUs: number;
  /** Latency from the intended send time, lines sent in the window. */
  corrected: LatencySummary;
  /** Latency from the actual send time, the same lines. */
  uncorrected: LatencySummary;
}

/** A {@linkcode DeliveryTally} as plain data, to post between workers. */
export interface TallyTransfer {
  /** The counts of {@linkcode TallySummary}. */
  counts: Omit<TallySummary, "corrected" | "uncorrected">;
  bySender: number[];
  corrected: HistogramTransfer;
  uncorrected: HistogramTransfer;
  timeline: TimelineTransfer | null;
}

/** Options for {@linkcode DeliveryTally}. */
export interface DeliveryTallyOptions {
  /**
   * Where the per-sender counts live: e.g. a worker's row of a
   * `SharedArrayBuffer`, so that senders in other workers read them.
   *
   * @default {a Float64Array of its own}
   */
  bySender?: Float64Array;
  /**
   * The measured window, to count per second (a {@linkcode Timeline}).
   *
   * @default {undefined: no timeline}
   */
  window?: WindowBounds;
}

/**
 * What receivers counted: deliveries and their faults, deliveries per
 * sender (the closed loop's window), latency histograms and, given the
 * window, the same per second.
 *
 * @example Two workers' tallies merged
 * ```ts
 * import { DeliveryTally } from "./accounting.ts";
 *
 * const a = new DeliveryTally(2);
 * const b = new DeliveryTally(2);
 * a.delivered = a.bySender[0] = 3;
 * b.delivered = b.bySender[1] = 2;
 * b.corrected.record(1500);
 * a.merge(b);
 * console.log(a.delivered, [...a.bySender], a.summary().corrected.count); // 5 [3, 2] 1
 * ```
 */
export class DeliveryTally {
  /** Distinct lines received (each line and receiver counted once). */
  delivered = 0;
  /** Lines received again. */
  duplicated = 0;
  /** Lines that arrived after a later line of their sender. */
  reordered = 0;
  /** Lines a client received from itself. */
  echoed = 0;
  /** Lines without this run's tag. */
  foreign = 0;
  /** Lines with this run's tag but a broken payload. */
  malformed = 0;
  /** Deliveries received inside the measured window. */
  windowDelivered = 0;
  /** Run-clock µs of the last delivery (0: none). */
  lastDeliveryUs = 0;
  /** Deliveries of each sender's lines. */
  readonly bySender: Float64Array;
  /** Latency from the intended send time (µs recorded). */
  readonly corrected: LatencyHistogram = new LatencyHistogram();
  /** Latency from the actual send time (µs recorded). */
  readonly uncorrected: LatencyHistogram = new LatencyHistogram();
  /** Per-second figures, when the tally was given the window. */
  readonly timeline: Timeline | undefined;

  /** An empty tally for `senders` senders. */
  constructor(senders: number, options: DeliveryTallyOptions = {}) {
    if (options.bySender && options.bySender.length < senders) {
      throw new RangeError(`bySender: room for ${senders} senders needed`);
    }
    this.bySender = options.bySender ?? new Float64Array(senders);
    this.timeline = options.window && new Timeline(options.window);
  }

  #counts(): TallyTransfer["counts"] {
    return {
      delivered: this.delivered,
      duplicated: this.duplicated,
      reordered: this.reordered,
      echoed: this.echoed,
      foreign: this.foreign,
      malformed: this.malformed,
      windowDelivered: this.windowDelivered,
      lastDeliveryUs: this.lastDeliveryUs,
    };
  }

  /** The tally as plain data (another thread adds it with mergeTransfer). */
  transfer(): TallyTransfer {
    return {
      counts: this.#counts(),
      bySender: [...this.bySender],
      corrected: this.corrected.transfer(),
      uncorrected: this.uncorrected.transfer(),
      timeline: this.timeline?.transfer() ?? null,
    };
  }

  /**
   * Adds a tally another worker posted ({@linkcode transfer}), exactly.
   * Per-sender counts are added too, unless `bySender: false` (they are
   * shared already).
   */
  mergeTransfer(
    other: TallyTransfer,
    options: { bySender?: boolean } = {},
  ): void {
    const c = other.counts;
    this.delivered += c.delivered;
    this.duplicated += c.duplicated;
    this.reordered += c.reordered;
    this.echoed += c.echoed;
    this.foreign += c.foreign;
    this.malformed += c.malformed;
    this.windowDelivered += c.windowDelivered;
    this.lastDeliveryUs = Math.max(this.lastDeliveryUs, c.lastDeliveryUs);
    if (options.bySender !== false) {
      for (let i = 0; i < this.bySender.length; i++) {
        this.bySender[i] += other.bySender[i] ?? 0;
      }
    }
    for (
      const [mine, theirs] of [
        [this.corrected, other.corrected],
        [this.uncorrected, other.uncorrected],
      ] as const
    ) {
      const histogram = LatencyHistogram.fromTransfer(theirs);
      mine.add(histogram);
      histogram.destroy();
    }
    if (other.timeline) this.timeline?.merge(other.timeline);
  }

  /** Adds `other` (another worker's receivers) to this tally, exactly. */
  merge(other: DeliveryTally): void {
    this.delivered += other.delivered;
    this.duplicated += other.duplicated;
    this.reordered += other.reordered;
    this.echoed += other.echoed;
    this.foreign += other.foreign;
    this.malformed += other.malformed;
    this.windowDelivered += other.windowDelivered;
    this.lastDeliveryUs = Math.max(this.lastDeliveryUs, other.lastDeliveryUs);
    for (let i = 0; i < this.bySender.length; i++) {
      this.bySender[i] += other.bySender[i] ?? 0;
    }
    this.corrected.add(other.corrected);
    this.uncorrected.add(other.uncorrected);
    if (other.timeline) this.timeline?.merge(other.timeline.transfer());
  }

  /** The counts and percentiles. */
  summary(): TallySummary {
    return {
      ...this.#counts(),
      corrected: this.corrected.summary(),
      uncorrected: this.uncorrected.summary(),
    };
  }
}
