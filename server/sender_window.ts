/**
 * Flood control (PROTOCOL.md §4.9): how much of one sender's output may
 * wait in other clients' queues before the server stops reading from it.
 *
 * @module
 */

/** Options for {@linkcode SenderWindow}. */
export interface SenderWindowOptions {
  /**
   * Bytes (at their real cost, see {@linkcode Batch.cost}) of the sender's
   * batches that recipients may not yet have taken; at or over it the
   * sender is paused, and it resumes once half of it is taken.
   *
   * @default {262144}
   */
  limitBytes?: number;
  /**
   * Longest a pause lasts. Then the recipients still holding the sender's
   * batches stop holding it back (they are left to the slow-consumer
   * limits), so a sender is never slowed below `limitBytes` per
   * `waitMs`, whatever one recipient does.
   *
   * @default {1000}
   */
  waitMs?: number;
  /** Called when the sender must stop being read. */
  onPause: () => void;
  /**
   * Called when it may be read again; `expired` tells that the wait ran
   * out rather than recipients taking enough of its output.
   */
  onResume: (expired: boolean) => void;
}

/** Default of {@linkcode SenderWindowOptions.limitBytes}. */
export const DEFAULT_SENDER_WINDOW_BYTES = 256 * 1024;
/** Default of {@linkcode SenderWindowOptions.waitMs}. */
export const DEFAULT_SENDER_WAIT_MS = 1000;

/**
 * One sender's window: the real cost of its batches still held by some
 * recipient. A batch counts once however many recipients hold it, and
 * stops counting when the last one has taken it for writing.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { SenderWindow } from "./sender_window.ts";
 *
 * const events: string[] = [];
 * const window = new SenderWindow({
 *   limitBytes: 100,
 *   onPause: () => events.push("pause"),
 *   onResume: () => events.push("resume"),
 * });
 * const epoch = window.charge(120);
 * window.check();
 * window.settle(120, epoch);
 * deepEqual(events, ["pause", "resume"]);
 * window.close();
 * ```
 */
export class SenderWindow {
  readonly #limit: number;
  readonly #waitMs: number;
  readonly #onPause: () => void;
  readonly #onResume: (expired: boolean) => void;
  #outstanding = 0;
  #epoch = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /** Creates a window; see {@linkcode SenderWindowOptions}. */
  constructor(options: SenderWindowOptions) {
    this.#limit = options.limitBytes ?? DEFAULT_SENDER_WINDOW_BYTES;
    this.#waitMs = options.waitMs ?? DEFAULT_SENDER_WAIT_MS;
    this.#onPause = options.onPause;
    this.#onResume = options.onResume;
  }

  /** Cost of this sender's batches not yet taken by every recipient. */
  get outstanding(): number {
    return this.#outstanding;
  }

  /** Whether the sender is paused now. */
  get paused(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * Counts a new batch of `cost` bytes; returns the epoch to settle it
   * with (batches of an expired wait no longer count).
   */
  charge(cost: number): number {
    this.#outstanding += cost;
    return this.#epoch;
  }

  /** The last recipient took a batch charged in `epoch`. */
  settle(cost: number, epoch: number): void {
    if (epoch !== this.#epoch) return;
    this.#outstanding -= cost;
    if (this.#timer !== undefined && this.#outstanding <= this.#limit / 2) {
      this.#resume();
    }
  }

  /** Pauses the sender if it is at or over its window (after a relay). */
  check(): void {
    if (
      this.#timer !== undefined || this.#closed ||
      this.#outstanding < this.#limit
    ) return;
    this.#timer = setTimeout(this.#expire, this.#waitMs);
    this.#onPause();
  }

  /** Stops the wait timer; the window is never used again. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * The wait is over: everything charged so far no longer counts (the
   * sender was paused, so all of it is at least `waitMs` old).
   */
  #expire = (): void => {
    this.#epoch++;
    this.#outstanding = 0;
    this.#resume(true);
  };

  #resume(expired = false): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#onResume(expired);
  }
}
