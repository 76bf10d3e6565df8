/**
 * A client's pending output: batches waiting to be written, bounded.
 *
 * @module
 */

/**
 * A FIFO of byte batches with a running byte count.
 *
 * Fan-out only appends (the same batch object is shared by every
 * recipient); the client's writer takes everything queued as one buffer,
 * so a backlog of many small batches costs one `write` call, not one each.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { OutboundQueue } from "./outbound_queue.ts";
 *
 * const queue = new OutboundQueue();
 * queue.push(new Uint8Array([1, 2]));
 * queue.push(new Uint8Array([3]));
 * deepEqual(queue.pendingBytes, 3);
 * deepEqual(queue.take(1024), new Uint8Array([1, 2, 3]));
 * queue.written(3);
 * deepEqual(queue.pendingBytes, 0);
 * ```
 */
export class OutboundQueue {
  #batches: Uint8Array[] = [];
  #queuedBytes = 0;
  #inFlightBytes = 0;

  /** Bytes queued or handed to the writer and not yet written. */
  get pendingBytes(): number {
    return this.#queuedBytes + this.#inFlightBytes;
  }

  /** Whether nothing is queued (bytes in flight do not count). */
  get isEmpty(): boolean {
    return this.#batches.length === 0;
  }

  /** Appends a batch; the queue keeps a reference, not a copy. */
  push(batch: Uint8Array): void {
    this.#batches.push(batch);
    this.#queuedBytes += batch.length;
  }

  /**
   * Removes queued batches and returns them as one buffer of at most
   * `maxBytes` (more only when the first batch alone is larger), or `null`
   * when nothing is queued. A single batch is returned as it is, uncopied.
   * Call {@linkcode OutboundQueue.written} as its bytes are written.
   */
  take(maxBytes: number): Uint8Array | null {
    const batches = this.#batches;
    if (batches.length === 0) return null;
    let count = 1;
    let size = batches[0].length;
    while (count < batches.length && size + batches[count].length <= maxBytes) {
      size += batches[count].length;
      count++;
    }
    let out: Uint8Array;
    if (count === 1) {
      out = batches[0];
    } else {
      out = new Uint8Array(size);
      let offset = 0;
      for (let i = 0; i < count; i++) {
        out.set(batches[i], offset);
        offset += batches[i].length;
      }
    }
    if (count === batches.length) this.#batches = [];
    else batches.splice(0, count);
    this.#queuedBytes -= size;
    this.#inFlightBytes += size;
    return out;
  }

  /** Records that `bytes` of a taken buffer were written. */
  written(bytes: number): void {
    this.#inFlightBytes -= bytes;
  }

  /** Drops everything pending (the connection is gone). */
  clear(): void {
    this.#batches = [];
    this.#queuedBytes = 0;
    this.#inFlightBytes = 0;
  }
}
