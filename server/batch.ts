/**
 * What the room relays: the lines one sender completed in one read,
 * encoded once and shared by every recipient.
 *
 * @module
 */

import type { SenderWindow } from "./sender_window.ts";

/**
 * Bytes an object holding a batch costs beyond its payload: the batch,
 * its `Uint8Array` and the slot that queues it. Charged to windows and
 * queues so that many tiny lines cost what they really hold (§4.10).
 */
export const BATCH_OVERHEAD_BYTES = 64;

/**
 * Encoded lines (each ending in CR LF) from one sender, shared by every
 * recipient that queues them.
 *
 * A recipient that queues the batch and should hold its sender back until
 * the bytes are taken for writing calls {@linkcode Batch.hold}, and
 * {@linkcode Batch.release} once it took (or dropped) them; when the last
 * holder releases, the sender's window is credited (flood control).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { Batch } from "./batch.ts";
 *
 * const batch = new Batch(new TextEncoder().encode("hi\r\n"), 1);
 * batch.hold();
 * deepEqual(batch.cost, 4 + 64);
 * batch.release();
 * ```
 */
export class Batch {
  /** The lines, each followed by CR LF. */
  readonly bytes: Uint8Array;
  /** How many lines `bytes` holds. */
  readonly lineCount: number;
  /** Where it came from: a sender's window, or `null` (another node). */
  readonly #window: SenderWindow | null;
  readonly #epoch: number;
  #holds = 0;
  #framedBy: ((lines: Uint8Array) => Uint8Array) | undefined;
  #framed: Uint8Array | undefined;

  /** Wraps encoded lines, charging `window` (if any) for them. */
  constructor(
    bytes: Uint8Array,
    lineCount: number,
    window: SenderWindow | null = null,
  ) {
    this.bytes = bytes;
    this.lineCount = lineCount;
    this.#window = window;
    this.#epoch = window === null ? 0 : window.charge(this.cost);
  }

  /** What the batch really costs to hold, in bytes. */
  get cost(): number {
    return this.bytes.length + BATCH_OVERHEAD_BYTES;
  }

  /**
   * The lines as `frame` encodes them for a transport with frames of its
   * own (WebSocket): encoded once, by the first recipient that asks, and
   * shared by the others.
   */
  framed(frame: (lines: Uint8Array) => Uint8Array): Uint8Array {
    if (this.#framedBy !== frame) {
      this.#framed = frame(this.bytes);
      this.#framedBy = frame;
    }
    return this.#framed!;
  }

  /** A recipient holds the sender back until it releases the batch. */
  hold(): void {
    this.#holds++;
  }

  /** A holder took (or dropped) the batch. */
  release(): void {
    if (--this.#holds === 0) this.#window?.settle(this.cost, this.#epoch);
  }
}

/**
 * What one line of `maxLineBytes` costs queued: its CR LF and the batch
 * overhead. A client's pending-output bound must allow at least this.
 *
 * @example
 * ```ts
 * import { maxLineCost } from "./batch.ts";
 * console.log(maxLineCost(65536)); // 65602
 * ```
 */
export function maxLineCost(maxLineBytes: number): number {
  return maxLineBytes + 2 + BATCH_OVERHEAD_BYTES;
}
