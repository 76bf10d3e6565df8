/**
 * The optional per-client input cap (`--max-input-rate`): a client that
 * sends faster is read more slowly, never disconnected (PROTOCOL.md §4.12).
 *
 * @module
 */

/** A rate of input: lines per second, and optionally bytes per second. */
export interface InputRate {
  /** Lines per second; at least 1. */
  linesPerSecond: number;
  /** Bytes per second; unset means no byte cap. */
  bytesPerSecond?: number;
}

/**
 * Default cap on the frames that carry no line (pings, pongs, fragments)
 * one WebSocket client may send per second (`--max-control-rate`).
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_CONTROL_RATE } from "./input_throttle.ts";
 * console.log(DEFAULT_MAX_CONTROL_RATE); // 100
 * ```
 */
export const DEFAULT_MAX_CONTROL_RATE = 100;

/**
 * Two token buckets (lines, bytes), each holding one second of its rate.
 * Input is always taken (it was already read); when a bucket goes below
 * zero, the caller stops reading for as long as refilling it takes, which
 * is how IRC servers' "fakelag" slows a fast sender.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { InputThrottle } from "./input_throttle.ts";
 *
 * const throttle = new InputThrottle({ linesPerSecond: 10 }, 0);
 * deepEqual(throttle.consume(10, 100, 0), 0); // the first second's worth
 * deepEqual(throttle.consume(5, 50, 0), 500); // 5 lines over: wait 500 ms
 * ```
 */
export class InputThrottle {
  readonly #rate: InputRate;
  #lines: number;
  #bytes: number;
  #at: number;

  /** Starts with full buckets at time `now` (ms). */
  constructor(rate: InputRate, now: number = Date.now()) {
    this.#rate = rate;
    this.#lines = rate.linesPerSecond;
    this.#bytes = rate.bytesPerSecond ?? 0;
    this.#at = now;
  }

  /**
   * Takes `lines` and `bytes` read at `now`; returns how many ms to wait
   * before reading again (0: go on at once).
   */
  consume(lines: number, bytes: number, now: number = Date.now()): number {
    const { linesPerSecond, bytesPerSecond } = this.#rate;
    const elapsed = Math.max(0, now - this.#at) / 1000;
    this.#at = now;
    this.#lines = Math.min(
      linesPerSecond,
      this.#lines + elapsed * linesPerSecond,
    ) - lines;
    let wait = this.#lines < 0 ? -this.#lines / linesPerSecond : 0;
    if (bytesPerSecond !== undefined) {
      this.#bytes = Math.min(
        bytesPerSecond,
        this.#bytes + elapsed * bytesPerSecond,
      ) - bytes;
      if (this.#bytes < 0) wait = Math.max(wait, -this.#bytes / bytesPerSecond);
    }
    return Math.ceil(wait * 1000);
  }
}
