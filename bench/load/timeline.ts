/**
 * Per-second figures of the measured window: lines offered (by intended
 * send time), deliveries (by arrival) and the latency of the lines that
 * arrived in each second, each second its own HDR histogram. Like the
 * run's totals they merge exactly across workers, and they are what
 * `--hdr-out` writes in HdrHistogram's interval log format.
 *
 * @module
 */

import * as hdr from "hdr-histogram-js";
import {
  type HistogramTransfer,
  LatencyHistogram,
  type LatencySummary,
} from "../latency_histogram.ts";
import type { WindowBounds } from "./window.ts";

/**
 * Most seconds a timeline keeps (later ones are not counted per second;
 * the run's totals still are).
 *
 * @example
 * ```ts
 * import { MAX_TIMELINE_SECONDS } from "./timeline.ts";
 * console.log(MAX_TIMELINE_SECONDS); // 3600
 * ```
 */
export const MAX_TIMELINE_SECONDS = 3600;

/** Per-second histograms keep two significant digits (1 %): 14 KiB each. */
const SECOND_HISTOGRAM = { significantDigits: 2 } as const;

/** One second of the window, as the report shows it. */
export interface TimelineSecond {
  /** Seconds since the window opened (this one is `[second, second + 1)`). */
  second: number;
  /** Lines whose intended send time fell in this second. */
  offered: number;
  /** Deliveries that arrived in this second. */
  delivered: number;
  /**
   * Latency from the intended send time of the lines (sent in the window)
   * that arrived in this second, ms.
   */
  latency: LatencySummary;
}

/** A {@linkcode Timeline} as plain data, to post between workers. */
export interface TimelineTransfer {
  offered: number[];
  delivered: number[];
  latency: (HistogramTransfer | null)[];
}

/**
 * Counts and latencies per second of the measured window.
 *
 * @example
 * ```ts
 * import { Timeline } from "./timeline.ts";
 * const timeline = new Timeline({ startUs: 0, endUs: 2_000_000 });
 * timeline.offer(100);
 * timeline.deliver(1_500_000, 2);
 * timeline.latency(1_500_000, 900, 2);
 * const [first, second] = timeline.seconds();
 * console.log(first.offered, second.delivered, second.latency.count); // 1 2 2
 * ```
 */
export class Timeline {
  readonly #window: WindowBounds;
  readonly #offered: number[] = [];
  readonly #delivered: number[] = [];
  readonly #latency: (LatencyHistogram | undefined)[] = [];

  /** A timeline of the window `window` (read when figures come in). */
  constructor(window: WindowBounds) {
    this.#window = window;
  }

  /** The second of the window `us` (run-clock µs) falls in; -1 outside. */
  secondOf(us: number): number {
    const second = Math.floor((us - this.#window.startUs) / 1e6);
    return second >= 0 && second < MAX_TIMELINE_SECONDS ? second : -1;
  }

  /** A line whose intended send time is `intendedUs` was sent. */
  offer(intendedUs: number): void {
    const second = this.secondOf(intendedUs);
    if (second >= 0) this.#offered[second] = (this.#offered[second] ?? 0) + 1;
  }

  /** `count` deliveries arrived at `nowUs`. */
  deliver(nowUs: number, count: number): void {
    const second = this.secondOf(nowUs);
    if (second >= 0) {
      this.#delivered[second] = (this.#delivered[second] ?? 0) + count;
    }
  }

  /** `count` lines arrived at `nowUs`, each `us` after it was due. */
  latency(nowUs: number, us: number, count: number): void {
    const second = this.secondOf(nowUs);
    if (second < 0) return;
    (this.#latency[second] ??= new LatencyHistogram(SECOND_HISTOGRAM))
      .recordMany(us, count);
  }

  /** Adds another worker's timeline, exactly. */
  merge(other: TimelineTransfer): void {
    other.offered.forEach((n, i) => {
      if (n) this.#offered[i] = (this.#offered[i] ?? 0) + n;
    });
    other.delivered.forEach((n, i) => {
      if (n) this.#delivered[i] = (this.#delivered[i] ?? 0) + n;
    });
    other.latency.forEach((transfer, i) => {
      if (!transfer) return;
      const histogram = LatencyHistogram.fromTransfer(
        transfer,
        SECOND_HISTOGRAM,
      );
      const mine = this.#latency[i];
      if (mine) {
        mine.add(histogram);
        histogram.destroy();
      } else this.#latency[i] = histogram;
    });
  }

  /** The timeline as plain data. */
  transfer(): TimelineTransfer {
    const length = this.#length();
    return {
      offered: Array.from({ length }, (_, i) => this.#offered[i] ?? 0),
      delivered: Array.from({ length }, (_, i) => this.#delivered[i] ?? 0),
      latency: Array.from(
        { length },
        (_, i) => this.#latency[i]?.transfer() ?? null,
      ),
    };
  }

  /**
   * Every second from the window's start to the last one with a figure
   * (seconds past the window's end hold deliveries of the drain).
   */
  seconds(): TimelineSecond[] {
    return Array.from({ length: this.#length() }, (_, second) => ({
      second,
      offered: this.#offered[second] ?? 0,
      delivered: this.#delivered[second] ?? 0,
      latency: (this.#latency[second] ?? EMPTY).summary(),
    }));
  }

  /**
   * The per-second latency histograms in HdrHistogram's interval log
   * format (version 1.3, values in µs, maxima in ms), as `wrk2` and
   * `HdrHistogram`'s own tools read it. `startEpochMs` is when the window
   * opened.
   */
  hdrLog(startEpochMs: number, comment?: string): string {
    const out: string[] = [];
    const writer = new hdr.HistogramLogWriter((text) => out.push(text));
    if (comment) writer.outputComment(comment);
    writer.outputLogFormatVersion();
    writer.outputStartTime(startEpochMs);
    writer.outputLegend();
    for (let second = 0; second < this.#length(); second++) {
      const histogram = this.#latency[second] ?? EMPTY;
      const decoded = hdr.decodeFromCompressedBase64(histogram.encode());
      writer.outputIntervalHistogram(decoded, second, second + 1, 1000);
      decoded.destroy();
    }
    return out.join("");
  }

  #length(): number {
    return Math.max(
      this.#offered.length,
      this.#delivered.length,
      this.#latency.length,
    );
  }
}

const EMPTY = new LatencyHistogram(SECOND_HISTOGRAM);
