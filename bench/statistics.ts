/**
 * The small amount of statistics the reports need: the median and range of
 * repeated measurements, and the slope of a least-squares line (memory per
 * connection is the slope of RSS against connections).
 *
 * @module
 */

/** The median and range of repeated measurements of one quantity. */
export interface Spread {
  /** The median (mean of the two middle values for an even count). */
  median: number;
  /** The smallest value. */
  min: number;
  /** The largest value. */
  max: number;
  /** How many values there were. */
  count: number;
}

/**
 * Median, minimum and maximum of `values`; `undefined` when there are none.
 * Non-finite values are ignored.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { spread } from "./statistics.ts";
 *
 * deepEqual(spread([3, 1, 2]), { median: 2, min: 1, max: 3, count: 3 });
 * ```
 */
export function spread(values: readonly number[]): Spread | undefined {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 === 1
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
  return {
    median,
    min: sorted[0],
    max: sorted[sorted.length - 1],
    count: sorted.length,
  };
}

/** A fitted line `y = intercept + slope × x`. */
export interface LinearFit {
  /** Change of y per unit of x. */
  slope: number;
  /** y at x = 0. */
  intercept: number;
  /** Coefficient of determination, 0 to 1 (1 when y is constant). */
  r2: number;
}

/**
 * Least-squares line through the points `(xs[i], ys[i])`; `undefined` with
 * fewer than two distinct x values.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { linearFit } from "./statistics.ts";
 *
 * // RSS of 1000 + 5 bytes per connection:
 * deepEqual(linearFit([0, 10, 20], [1000, 1050, 1100])?.slope, 5);
 * ```
 */
export function linearFit(
  xs: readonly number[],
  ys: readonly number[],
): LinearFit | undefined {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return undefined;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i];
    sy += ys[i];
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i] - mx;
    const dy = ys[i] - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) return undefined;
  const slope = sxy / sxx;
  return {
    slope,
    intercept: my - slope * mx,
    r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy),
  };
}

/**
 * `count` per second over `seconds`; 0 when no time passed.
 *
 * @example
 * ```ts
 * import { perSecond } from "./statistics.ts";
 * console.log(perSecond(5000, 2)); // 2500
 * ```
 */
export function perSecond(count: number, seconds: number): number {
  return seconds > 0 ? count / seconds : 0;
}

/**
 * `a / b`, or `undefined` when either is missing or `b` is zero: for
 * "ratio to the reference" columns where a failed run has no number.
 *
 * @example
 * ```ts
 * import { ratio } from "./statistics.ts";
 * console.log(ratio(50, 2), ratio(1, 0)); // 25 undefined
 * ```
 */
export function ratio(
  a: number | undefined,
  b: number | undefined,
): number | undefined {
  if (a === undefined || b === undefined || b === 0) return undefined;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return undefined;
  return a / b;
}
