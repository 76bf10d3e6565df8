/**
 * The run's clock: whole microseconds since the run started, the unit of
 * every time a payload carries and every window bound. It is anchored to
 * an epoch time, so that a worker thread (whose `performance.now()` has
 * its own origin) can build the same clock and read the same times.
 *
 * @module
 */

/**
 * Microseconds since a run's origin.
 *
 * @example
 * ```ts
 * import { RunClock } from "./clock.ts";
 *
 * const clock = new RunClock();
 * const again = RunClock.fromEpoch(clock.originEpochMs); // e.g. in a worker
 * console.log(Math.abs(again.nowUs() - clock.nowUs()) < 1000); // true
 * ```
 */
export class RunClock {
  /** The origin, in this thread's `performance.now()` milliseconds. */
  readonly originMs: number;

  /** A clock whose origin is `originMs` (`performance.now()`, ms). */
  constructor(originMs: number = performance.now()) {
    this.originMs = originMs;
  }

  /** The same clock in another thread, from {@linkcode originEpochMs}. */
  static fromEpoch(epochMs: number): RunClock {
    return new RunClock(epochMs - performance.timeOrigin);
  }

  /** The origin as epoch milliseconds, valid in every thread. */
  get originEpochMs(): number {
    return performance.timeOrigin + this.originMs;
  }

  /** Now, in µs since the origin. */
  nowUs(): number {
    return Math.round((performance.now() - this.originMs) * 1000);
  }

  /** A `performance.now()` time (ms) in µs since the origin. */
  toUs(ms: number): number {
    return Math.round((ms - this.originMs) * 1000);
  }

  /** A time in µs since the origin as this thread's `performance.now()`, ms. */
  fromUs(us: number): number {
    return this.originMs + us / 1000;
  }
}
