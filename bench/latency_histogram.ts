/**
 * Latency recording in HDR histograms (`hdr-histogram-js`), and the
 * summary every report prints: percentiles in milliseconds.
 *
 * @module
 */

import * as hdr from "hdr-histogram-js";

/** Percentiles and extremes of a latency distribution, in milliseconds. */
export interface LatencySummary {
  /** Values recorded. */
  count: number;
  /** Mean, ms. */
  mean: number;
  /** Median, ms. */
  p50: number;
  /** 90th percentile, ms. */
  p90: number;
  /** 99th percentile, ms. */
  p99: number;
  /** 99.9th percentile, ms. */
  p999: number;
  /** Largest value, ms. */
  max: number;
}

/** A {@linkcode LatencyHistogram} as plain data, to post between workers. */
export interface HistogramTransfer {
  /** HdrHistogram's compressed base64 form. */
  encoded: string;
  /** The largest value recorded, exactly, µs. */
  maxUs: number;
  /** Values clamped to the highest trackable one. */
  clamped: number;
}

/** Options for {@linkcode LatencyHistogram}. */
export interface LatencyHistogramOptions {
  /**
   * Largest value tracked, in µs; larger values are clamped to it (and
   * counted in {@linkcode LatencyHistogram.clamped}).
   *
   * @default {120000000} (two minutes)
   */
  highestUs?: number;
  /**
   * Significant decimal digits kept (HDR precision).
   *
   * @default {3}
   */
  significantDigits?: 1 | 2 | 3 | 4 | 5;
}

/**
 * A latency histogram recording whole microseconds, 1 µs to
 * `highestUs`, at three significant digits.
 *
 * @example
 * ```ts
 * import { LatencyHistogram } from "./latency_histogram.ts";
 *
 * const histogram = new LatencyHistogram();
 * for (let us = 1; us <= 1000; us++) histogram.record(us);
 * console.log(histogram.summary().p99); // 0.99 (ms)
 * ```
 */
export class LatencyHistogram {
  /** Values above the highest trackable value, recorded as it. */
  clamped = 0;
  readonly #histogram: hdr.Histogram;
  readonly #highestUs: number;

  /** Creates an empty histogram; see {@linkcode LatencyHistogramOptions}. */
  constructor(options: LatencyHistogramOptions = {}) {
    this.#highestUs = options.highestUs ?? 120_000_000;
    this.#histogram = hdr.build({
      bitBucketSize: 32,
      lowestDiscernibleValue: 1,
      highestTrackableValue: this.#highestUs,
      numberOfSignificantValueDigits: options.significantDigits ?? 3,
      useWebAssembly: false,
    });
  }

  /**
   * Rebuilds a histogram from {@linkcode LatencyHistogram.transfer}'s
   * form: one a worker recorded and posted, to {@linkcode add} to another
   * with nothing lost.
   *
   * @example
   * ```ts
   * import { LatencyHistogram } from "./latency_histogram.ts";
   * const worker = new LatencyHistogram();
   * worker.record(2501);
   * const merged = new LatencyHistogram();
   * merged.add(LatencyHistogram.fromTransfer(worker.transfer()));
   * console.log(merged.summary().max); // 2.501 (ms)
   * ```
   */
  static fromTransfer(
    transfer: HistogramTransfer,
    options: LatencyHistogramOptions = {},
  ): LatencyHistogram {
    const histogram = new LatencyHistogram(options);
    const decoded = hdr.decodeFromCompressedBase64(transfer.encoded, 32, false);
    histogram.#histogram.add(decoded);
    decoded.destroy();
    // The compressed form keeps each value to the histogram's precision,
    // and so the largest one only to its bucket: put the exact one back.
    if (histogram.count > 0) {
      (histogram.#histogram as { maxValue: number }).maxValue = transfer.maxUs;
    }
    histogram.clamped = transfer.clamped;
    return histogram;
  }

  /** How many values were recorded. */
  get count(): number {
    return this.#histogram.totalCount;
  }

  /**
   * Records one latency in µs. Values below 1 µs count as 1 µs (the clock
   * resolution), values over the limit as the limit.
   */
  record(us: number): void {
    let value = Math.round(us);
    if (value < 1) value = 1;
    else if (value > this.#highestUs) {
      value = this.#highestUs;
      this.clamped++;
    }
    this.#histogram.recordValue(value);
  }

  /** Records `count` occurrences of one latency in µs. */
  recordMany(us: number, count: number): void {
    if (count <= 0) return;
    let value = Math.round(us);
    if (value < 1) value = 1;
    else if (value > this.#highestUs) {
      value = this.#highestUs;
      this.clamped += count;
    }
    this.#histogram.recordValueWithCount(value, count);
  }

  /** Adds every value of `other` to this histogram. */
  add(other: LatencyHistogram): void {
    this.#histogram.add(other.#histogram);
    this.clamped += other.clamped;
  }

  /** The value at `percentile` (0 to 100), in µs; 0 when empty. */
  percentileUs(percentile: number): number {
    if (this.count === 0) return 0;
    return this.#histogram.getValueAtPercentile(percentile);
  }

  /**
   * The percentile spectrum as HdrHistogram prints it (wrk2's "Detailed
   * Percentile spectrum"): value in ms, percentile, total count and
   * 1/(1 − percentile), `ticks` rows per halving of the distance to 100 %.
   */
  percentileSpectrum(ticks = 5): string {
    if (this.count === 0) return "(no values)\n";
    return this.#histogram.outputPercentileDistribution(ticks, 1000);
  }

  /** Percentiles in ms (all zero when nothing was recorded). */
  summary(): LatencySummary {
    const h = this.#histogram;
    const count = h.totalCount;
    const ms = (us: number) => count === 0 ? 0 : roundMs(us / 1000);
    return {
      count,
      mean: ms(h.mean),
      p50: ms(h.getValueAtPercentile(50)),
      p90: ms(h.getValueAtPercentile(90)),
      p99: ms(h.getValueAtPercentile(99)),
      p999: ms(h.getValueAtPercentile(99.9)),
      max: ms(h.maxValue),
    };
  }

  /**
   * The histogram as plain data a worker can post: HdrHistogram's
   * compressed form, with what that form leaves out.
   */
  transfer(): HistogramTransfer {
    return {
      encoded: this.encode(),
      maxUs: this.#histogram.maxValue,
      clamped: this.clamped,
    };
  }

  /** The histogram in HdrHistogram's compressed base64 form. */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.#histogram);
  }

  /** Frees the histogram's memory (optional; for many short-lived ones). */
  destroy(): void {
    this.#histogram.destroy();
  }
}

/** Rounds milliseconds to µs precision, for stable reports. */
function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
