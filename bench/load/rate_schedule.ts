/**
 * The open loop's schedule: when each line of a sender is due. A fixed
 * rate (`--rate 100`) puts line _k_ at _k_ / rate; a ramp
 * (`--rate 100:1000:10s`) holds the first rate through the warm-up, then
 * climbs linearly to the second over the given time once the measured
 * window opens, and holds it; `--rate 100:1000:10s:4` climbs in 4 equal
 * steps instead (100, 400, 700, 1000 lines/s, 2.5 s each).
 *
 * @module
 */

import { UsageError } from "../../lib/args.ts";
import { parseDuration } from "../flag_values.ts";

/** A rate, or a ramp from one rate to another. */
export interface RateSpec {
  /** Lines per second per sender at first (0: the closed loop). */
  from: number;
  /** Lines per second per sender at the end of the ramp. */
  to: number;
  /** How long the ramp takes, ms (0: a fixed rate). */
  overMs: number;
  /** Steps of the ramp (0: linear). */
  steps: number;
}

/**
 * Parses `--rate`: `R`, `FROM:TO:T` (a linear ramp over T) or
 * `FROM:TO:T:N` (N steps). Rates are lines per second per sender, from 0
 * to `max`; a ramp's rates must be above 0.
 *
 * @example
 * ```ts
 * import { parseRate } from "./rate_schedule.ts";
 * console.log(parseRate("100:1000:10s")); // { from: 100, to: 1000, overMs: 10000, steps: 0 }
 * console.log(parseRate("0").from); // 0
 * ```
 */
export function parseRate(value: string, max = 1_000_000): RateSpec {
  const parts = value.split(":");
  const rate = (text: string, min: number) => {
    const n = Number(text);
    if (text.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
      throw new UsageError(
        `--rate: expected a number from ${min} to ${max}` +
          (parts.length > 1 ? " or FROM:TO:T[:STEPS]" : "") +
          `, got "${value}"`,
      );
    }
    return n;
  };
  if (parts.length === 1) {
    return {
      from: rate(parts[0], 0),
      to: rate(parts[0], 0),
      overMs: 0,
      steps: 0,
    };
  }
  if (parts.length !== 3 && parts.length !== 4) {
    throw new UsageError(
      `--rate: expected R or FROM:TO:T[:STEPS] (e.g. 100:1000:10s), got "${value}"`,
    );
  }
  const from = rate(parts[0], 0);
  const to = rate(parts[1], 0);
  if (from === 0 || to === 0) {
    throw new UsageError(
      `--rate: a ramp's rates must be above 0 (0 is the closed loop), got "${value}"`,
    );
  }
  const overMs = parseDuration("--rate", parts[2], { minMs: 1 });
  let steps = 0;
  if (parts.length === 4) {
    steps = Number(parts[3]);
    if (!Number.isInteger(steps) || steps < 2 || steps > 1000) {
      throw new UsageError(
        `--rate: STEPS must be a whole number from 2 to 1000, got "${
          parts[3]
        }"`,
      );
    }
  }
  return { from, to, overMs, steps };
}

/**
 * A rate spec as `--rate` writes it.
 *
 * @example
 * ```ts
 * import { formatRate } from "./rate_schedule.ts";
 * console.log(formatRate({ from: 100, to: 1000, overMs: 10000, steps: 4 })); // "100:1000:10000ms:4"
 * ```
 */
export function formatRate(spec: RateSpec): string {
  if (spec.overMs === 0) return String(spec.from);
  return `${spec.from}:${spec.to}:${spec.overMs}ms${
    spec.steps ? `:${spec.steps}` : ""
  }`;
}

/** One piece of a schedule: the rate goes linearly from `r0` to `r1`. */
interface Segment {
  startMs: number;
  endMs: number;
  r0: number;
  r1: number;
  /** Lines due before it starts (fractional). */
  before: number;
}

/**
 * When each line of one sender is due, in ms from the schedule's start,
 * and how many are due by a time.
 *
 * @example
 * ```ts
 * import { RateSchedule } from "./rate_schedule.ts";
 * const fixed = new RateSchedule({ from: 100, to: 100, overMs: 0, steps: 0 });
 * console.log(fixed.dueMs(3), fixed.dueBy(25)); // 30 3
 * const ramp = new RateSchedule({ from: 100, to: 300, overMs: 1000, steps: 0 }, 1000);
 * console.log(ramp.dueBy(1000), ramp.dueBy(2000), ramp.rateAt(1500)); // 101 301 200
 * ```
 */
export class RateSchedule {
  /** The spec it follows. */
  readonly spec: RateSpec;
  readonly #periodMs: number;
  readonly #segments: Segment[] = [];

  /**
   * The schedule of `spec`, whose ramp starts `rampStartMs` after the
   * schedule does (the warm-up).
   */
  constructor(spec: RateSpec, rampStartMs = 0) {
    if (!(spec.from > 0) || !(spec.to > 0)) {
      throw new RangeError("a schedule needs rates above 0");
    }
    this.spec = spec;
    this.#periodMs = 1000 / spec.from;
    if (spec.overMs === 0) return;
    const pieces: Omit<Segment, "before">[] = [
      { startMs: 0, endMs: rampStartMs, r0: spec.from, r1: spec.from },
    ];
    if (spec.steps === 0) {
      pieces.push({
        startMs: rampStartMs,
        endMs: rampStartMs + spec.overMs,
        r0: spec.from,
        r1: spec.to,
      });
    } else {
      const length = spec.overMs / spec.steps;
      for (let i = 0; i < spec.steps; i++) {
        const r = spec.from + ((spec.to - spec.from) * i) / (spec.steps - 1);
        pieces.push({
          startMs: rampStartMs + i * length,
          endMs: rampStartMs + (i + 1) * length,
          r0: r,
          r1: r,
        });
      }
    }
    pieces.push({
      startMs: rampStartMs + spec.overMs,
      endMs: Infinity,
      r0: spec.to,
      r1: spec.to,
    });
    let before = 0;
    for (const piece of pieces) {
      if (piece.endMs <= piece.startMs) continue;
      this.#segments.push({ ...piece, before });
      before += linesIn(piece, piece.endMs - piece.startMs);
    }
  }

  /** The period of the first rate, ms (the senders' phases spread over it). */
  get firstPeriodMs(): number {
    return this.#periodMs;
  }

  /** Lines per second at `tMs`. */
  rateAt(tMs: number): number {
    if (this.#segments.length === 0) return this.spec.from;
    const s = this.#segmentAt(tMs);
    const length = s.endMs - s.startMs;
    return length === Infinity
      ? s.r0
      : s.r0 + ((s.r1 - s.r0) * (tMs - s.startMs)) / length;
  }

  /** When line `k` (from 0) is due, ms from the start. */
  dueMs(k: number): number {
    if (this.#segments.length === 0) return k * this.#periodMs;
    let s = this.#segments[0];
    for (const segment of this.#segments) {
      if (segment.before > k) break;
      s = segment;
    }
    const left = k - s.before;
    const length = s.endMs - s.startMs;
    // Lines in the first u ms of s: (r0 u + (r1 - r0) u² / 2L) / 1000.
    const a = length === Infinity ? 0 : (s.r1 - s.r0) / (2 * length * 1000);
    const b = s.r0 / 1000;
    const u = Math.abs(a) < 1e-15
      ? left / b
      : (-b + Math.sqrt(Math.max(0, b * b + 4 * a * left))) / (2 * a);
    return s.startMs + u;
  }

  /** How many lines are due by `tMs` (all `k` with `dueMs(k) ≤ tMs`). */
  dueBy(tMs: number): number {
    if (tMs < 0) return 0;
    if (this.#segments.length === 0) {
      return Math.floor(tMs / this.#periodMs) + 1;
    }
    const s = this.#segmentAt(tMs);
    // A hair of slack, so that dueBy(dueMs(k)) includes line k whatever
    // the rounding of the square root.
    return Math.floor(s.before + linesIn(s, tMs - s.startMs) + 1e-9) + 1;
  }

  #segmentAt(tMs: number): Segment {
    let s = this.#segments[0];
    for (const segment of this.#segments) {
      if (segment.startMs > tMs) break;
      s = segment;
    }
    return s;
  }
}

/** Lines due in the first `u` ms of a segment. */
function linesIn(s: Omit<Segment, "before">, u: number): number {
  const length = s.endMs - s.startMs;
  if (length === Infinity || s.r0 === s.r1) return (s.r0 * u) / 1000;
  return (s.r0 * u + ((s.r1 - s.r0) * u * u) / (2 * length)) / 1000;
}
