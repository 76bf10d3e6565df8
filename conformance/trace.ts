/**
 * A case's wire trace: every client's connects, sends, receives and closes
 * with timestamps, bounded in size.
 *
 * @module
 */

import { escapeBytes } from "./escape.ts";
import type { TraceEvent } from "./types.ts";

/**
 * Options for {@linkcode TraceRecorder}.
 *
 * @example
 * ```ts
 * import { TraceRecorder, type TraceRecorderOptions } from "./trace.ts";
 * const options: TraceRecorderOptions = { maxEvents: 100 };
 * console.log(new TraceRecorder(options).omitted); // 0
 * ```
 */
export interface TraceRecorderOptions {
  /**
   * Most events kept; later ones are counted in
   * {@linkcode TraceRecorder.omitted}. The first half and the last half of
   * the limit are kept, so the start and the end of a case both show.
   *
   * @default {2000}
   */
  maxEvents?: number;
  /**
   * Bytes of each send or receive shown before it is abbreviated.
   *
   * @default {120}
   */
  maxDataBytes?: number;
}

/**
 * Records trace events relative to its creation time.
 *
 * @example
 * ```ts
 * import { TraceRecorder } from "./trace.ts";
 * const trace = new TraceRecorder();
 * trace.record("A", "send", new TextEncoder().encode("hi\n"));
 * console.log(trace.events()[0].data); // "hi\\n"
 * ```
 */
export class TraceRecorder {
  readonly #start = performance.now();
  readonly #maxEvents: number;
  readonly #maxDataBytes: number;
  readonly #head: TraceEvent[] = [];
  #tail: TraceEvent[] = [];
  #tailStart = 0;
  #omitted = 0;
  #timeouts = 0;

  /** Starts the clock; see {@linkcode TraceRecorderOptions}. */
  constructor(options: TraceRecorderOptions = {}) {
    this.#maxEvents = Math.max(2, options.maxEvents ?? 2000);
    this.#maxDataBytes = options.maxDataBytes ?? 120;
  }

  /** Milliseconds since the recorder was created. */
  now(): number {
    return performance.now() - this.#start;
  }

  /** Waits that timed out (counted even when their events are dropped). */
  get timeouts(): number {
    return this.#timeouts;
  }

  /** Events dropped to respect the size bound. */
  get omitted(): number {
    return this.#omitted;
  }

  /**
   * Records an event. `data` bytes are escaped and abbreviated; a string
   * is kept as is (notes, error messages).
   */
  record(
    client: string,
    event: TraceEvent["event"],
    data?: Uint8Array | string,
    extra: Pick<TraceEvent, "bytes" | "terminator"> = {},
  ): void {
    if (event === "timeout") this.#timeouts++;
    const entry: TraceEvent = {
      t: Math.round(this.now() * 1000) / 1000,
      client,
      event,
    };
    if (data !== undefined) {
      entry.data = typeof data === "string"
        ? data
        : escapeBytes(data, { maxBytes: this.#maxDataBytes });
      if (typeof data !== "string") entry.bytes = data.length;
    }
    if (extra.bytes !== undefined) entry.bytes = extra.bytes;
    if (extra.terminator !== undefined) entry.terminator = extra.terminator;
    const half = Math.floor(this.#maxEvents / 2);
    if (this.#head.length < half) {
      this.#head.push(entry);
      return;
    }
    this.#tail.push(entry);
    const keep = this.#maxEvents - half;
    if (this.#tail.length - this.#tailStart > keep) {
      this.#tailStart++;
      this.#omitted++;
      if (this.#tailStart > keep) {
        this.#tail = this.#tail.slice(this.#tailStart);
        this.#tailStart = 0;
      }
    }
  }

  /** Records a note from the harness itself. */
  note(text: string): void {
    this.record("harness", "note", text);
  }

  /** The events kept, in order; a note marks where some were left out. */
  events(): TraceEvent[] {
    const tail = this.#tail.slice(this.#tailStart);
    if (this.#omitted === 0) return [...this.#head, ...tail];
    const gap: TraceEvent = {
      t: tail[0]?.t ?? 0,
      client: "harness",
      event: "note",
      data: `… ${this.#omitted} events left out …`,
    };
    return [...this.#head, gap, ...tail];
  }
}
