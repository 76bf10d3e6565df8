/**
 * A client's pending output: batches waiting to be written, charged at
 * what they really cost to hold (PROTOCOL.md §4.6, §4.10).
 *
 * @module
 */

import { type Batch, BATCH_OVERHEAD_BYTES } from "./batch.ts";

/**
 * Batches up to this many bytes are copied into merge chunks while the
 * queue is detached, so a stream of tiny lines to a blocked client adds
 * bytes to a chunk, not entries to the queue.
 */
export const MERGE_MAX_BYTES = 512;
/** Capacity of one merge chunk. */
export const MERGE_CHUNK_BYTES = 4096;

/** A running total of the cost every queue holds, kept by the queues. */
export interface CostLedger {
  /** Bytes all queues sharing this ledger hold (queued and in flight). */
  total: number;
}

/** Options for {@linkcode OutboundQueue}. */
export interface OutboundQueueOptions {
  /**
   * Where the queue adds and removes its cost, so a server can bound the
   * sum over its clients.
   *
   * @default {a ledger of its own}
   */
  ledger?: CostLedger;
  /**
   * How the client's transport frames the room's lines (a WebSocket
   * client's frames; see {@linkcode Transport.frame}): each batch is
   * framed once, the frames are shared by every queue with the same
   * `frame`, and the queue holds, takes and is charged for the frames.
   *
   * @default {undefined: the lines as they are}
   */
  frame?: (lines: Uint8Array) => Uint8Array;
}

/** Tiny batches copied together while the queue is detached. */
class MergeChunk {
  readonly bytes = new Uint8Array(MERGE_CHUNK_BYTES);
  length = 0;
}

type Entry = Batch | MergeChunk;

const CHUNK_COST = MERGE_CHUNK_BYTES + BATCH_OVERHEAD_BYTES;

/**
 * A FIFO of batches with running payload and cost counts.
 *
 * Fan-out only appends (the same {@linkcode Batch} is shared by every
 * recipient, and each queue {@linkcode Batch.hold}s it, which holds its
 * sender back until the bytes are taken); the client's writer takes
 * everything queued as one buffer, so a backlog of many small batches
 * costs one `write` call, not one each.
 *
 * A queue whose client has stopped taking output is
 * {@linkcode OutboundQueue.detach}ed: it stops holding senders back, and
 * tiny batches queued from then on are merged into chunks of its own.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { Batch } from "./batch.ts";
 * import { OutboundQueue } from "./outbound_queue.ts";
 *
 * const queue = new OutboundQueue();
 * queue.push(new Batch(new Uint8Array([1, 2]), 1));
 * queue.push(new Batch(new Uint8Array([3]), 1));
 * deepEqual(queue.pendingBytes, 3);
 * deepEqual(queue.take(1024), new Uint8Array([1, 2, 3]));
 * queue.written(3);
 * deepEqual(queue.pendingBytes, 0);
 * ```
 */
export class OutboundQueue {
  readonly #ledger: CostLedger;
  readonly #frame: ((lines: Uint8Array) => Uint8Array) | undefined;
  #entries: Entry[] = [];
  /** Entries before this index hold no batch (the queue was detached). */
  #heldFrom = 0;
  /** The merge chunk still being filled (the last entry), if any. */
  #tail: MergeChunk | undefined;
  #queuedBytes = 0;
  #queuedCost = 0;
  #inFlightBytes = 0;
  #inFlightCost = 0;
  #detached = false;

  /** Creates an empty queue; see {@linkcode OutboundQueueOptions}. */
  constructor(options: OutboundQueueOptions = {}) {
    this.#ledger = options.ledger ?? { total: 0 };
    this.#frame = options.frame;
  }

  /** Payload bytes queued or handed to the writer and not yet written. */
  get pendingBytes(): number {
    return this.#queuedBytes + this.#inFlightBytes;
  }

  /** What the pending output really costs to hold, in bytes. */
  get cost(): number {
    return this.#queuedCost + this.#inFlightCost;
  }

  /** Whether nothing is queued (bytes in flight do not count). */
  get isEmpty(): boolean {
    return this.#entries.length === 0;
  }

  /** Entries queued: batches and merge chunks. */
  get length(): number {
    return this.#entries.length;
  }

  /** Whether the queue is detached (see {@linkcode OutboundQueue.detach}). */
  get detached(): boolean {
    return this.#detached;
  }

  /** Appends a batch; it is shared, not copied, unless tiny and detached. */
  push(batch: Batch): void {
    const size = this.#bytesOf(batch).length;
    if (!this.#detached) {
      batch.hold();
      this.#entries.push(batch);
      this.#add(size, this.#costOf(batch));
    } else {
      if (size <= MERGE_MAX_BYTES) {
        this.#merge(this.#bytesOf(batch));
      } else {
        this.#tail = undefined;
        this.#entries.push(batch);
        this.#add(size, this.#costOf(batch));
      }
      // Detached: nothing queued is held.
      this.#heldFrom = this.#entries.length;
    }
  }

  /**
   * Removes queued batches and returns them as one buffer of at most
   * `maxBytes` (more only when the first batch alone is larger), or `null`
   * when nothing is queued. A single batch is returned as it is, uncopied.
   * Senders are credited now; call {@linkcode OutboundQueue.written} as
   * the buffer's bytes are written.
   */
  take(maxBytes: number): Uint8Array | null {
    const entries = this.#entries;
    if (entries.length === 0) return null;
    let count = 1;
    let size = this.#bytesOf(entries[0]).length;
    let cost = this.#costOf(entries[0]);
    while (count < entries.length) {
      const next = this.#bytesOf(entries[count]).length;
      if (size + next > maxBytes) break;
      size += next;
      cost += this.#costOf(entries[count]);
      count++;
    }
    let out: Uint8Array;
    if (count === 1) {
      out = this.#bytesOf(entries[0]);
    } else {
      out = new Uint8Array(size);
      let offset = 0;
      for (let i = 0; i < count; i++) {
        const bytes = this.#bytesOf(entries[i]);
        out.set(bytes, offset);
        offset += bytes.length;
      }
    }
    this.#releaseHeld(0, count);
    if (count === entries.length) {
      this.#entries = [];
      this.#tail = undefined;
    } else {
      entries.splice(0, count);
    }
    this.#heldFrom = Math.max(0, this.#heldFrom - count);
    this.#queuedBytes -= size;
    this.#queuedCost -= cost;
    this.#inFlightBytes += size;
    this.#inFlightCost += cost;
    return out;
  }

  /** Records that `bytes` of a taken buffer were written. */
  written(bytes: number): void {
    this.#inFlightBytes -= bytes;
    if (this.#inFlightBytes <= 0) {
      this.#inFlightBytes = 0;
      this.#ledger.total -= this.#inFlightCost;
      this.#inFlightCost = 0;
    }
  }

  /**
   * The client stopped taking output: release every batch held (their
   * senders are no longer held back by this client) and merge the tiny
   * ones, and from now on merge tiny batches instead of queueing them.
   */
  detach(): void {
    if (this.#detached) return;
    this.#detached = true;
    const old = this.#entries;
    this.#releaseHeld(this.#heldFrom, old.length);
    this.#entries = [];
    this.#tail = undefined;
    this.#ledger.total -= this.#queuedCost;
    this.#queuedBytes = 0;
    this.#queuedCost = 0;
    for (const entry of old) {
      if (entry instanceof MergeChunk) {
        this.#tail = undefined;
        this.#entries.push(entry);
        this.#add(entry.length, CHUNK_COST);
      } else if (this.#bytesOf(entry).length <= MERGE_MAX_BYTES) {
        this.#merge(this.#bytesOf(entry));
      } else {
        this.#tail = undefined;
        this.#entries.push(entry);
        this.#add(this.#bytesOf(entry).length, this.#costOf(entry));
      }
    }
    this.#heldFrom = this.#entries.length;
  }

  /** The client takes output again: batches queued from now are held. */
  attach(): void {
    this.#detached = false;
  }

  /** Drops everything pending (the connection is gone). */
  clear(): void {
    this.#releaseHeld(this.#heldFrom, this.#entries.length);
    this.#ledger.total -= this.cost;
    this.#entries = [];
    this.#heldFrom = 0;
    this.#tail = undefined;
    this.#queuedBytes = 0;
    this.#queuedCost = 0;
    this.#inFlightBytes = 0;
    this.#inFlightCost = 0;
  }

  /** What the client is written for `entry`: its lines, or their frames. */
  #bytesOf(entry: Entry): Uint8Array {
    if (entry instanceof MergeChunk) {
      return entry.bytes.subarray(0, entry.length);
    }
    return this.#frame === undefined ? entry.bytes : entry.framed(this.#frame);
  }

  /**
   * What holding `entry` costs this client: what it will be written (its
   * frames, when framed) and the batch overhead. The lines themselves are
   * the sender's, charged to its window.
   */
  #costOf(entry: Entry): number {
    if (entry instanceof MergeChunk) return CHUNK_COST;
    return this.#frame === undefined
      ? entry.cost
      : entry.framed(this.#frame).length + BATCH_OVERHEAD_BYTES;
  }

  #add(bytes: number, cost: number): void {
    this.#queuedBytes += bytes;
    this.#queuedCost += cost;
    this.#ledger.total += cost;
  }

  /** Copies tiny `bytes` into the open merge chunk, opening one if full. */
  #merge(bytes: Uint8Array): void {
    let tail = this.#tail;
    if (tail === undefined || tail.length + bytes.length > MERGE_CHUNK_BYTES) {
      tail = this.#tail = new MergeChunk();
      this.#entries.push(tail);
      this.#add(0, CHUNK_COST);
    }
    tail.bytes.set(bytes, tail.length);
    tail.length += bytes.length;
    this.#queuedBytes += bytes.length;
  }

  /** Releases the batches among entries `[from, to)` that are held. */
  #releaseHeld(from: number, to: number): void {
    const entries = this.#entries;
    for (let i = Math.max(from, this.#heldFrom); i < to; i++) {
      const entry = entries[i];
      if (!(entry instanceof MergeChunk)) entry.release();
    }
  }
}
