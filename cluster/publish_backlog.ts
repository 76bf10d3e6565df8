/**
 * What a node has queued to publish while Redis is busy, shared fairly
 * between its senders and never older than a bound.
 *
 * Two rules keep the queue from turning into late or unfair delivery:
 *
 * - **Fair share.** When a batch does not fit in `maxBytes`, the sender
 *   holding the most of the backlog pays: if that is the new batch's own
 *   sender (counting the new batch), the new batch is dropped; otherwise
 *   that sender's oldest batches are dropped until the new one fits. So a
 *   sender that holds no more than an equal share (`maxBytes` / senders
 *   with batches queued) never loses lines to another sender's flood.
 * - **Bounded delay.** A batch queued more than `maxDelayMs` ago is
 *   dropped, not published: other nodes would deliver it late.
 *
 * Dropped batches are {@linkcode Batch.release}d (their senders are no
 * longer held back for them) and reported with why.
 *
 * @module
 */

import type { Batch } from "../server/batch.ts";
import { type BusEntry, entrySize } from "./message.ts";

/** Why a batch left the backlog without being published. */
export type BacklogDropReason = "full" | "expired" | "cleared";

/** A local batch waiting in the backlog. */
export interface BacklogEntry extends BusEntry {
  /**
   * The node's count of local lines (mod 2^32) up to and including this
   * batch's, carried in the message header (see `message.ts`).
   */
  lineMark: number;
  /**
   * The room's batch, held while it waits so its sender is slowed by a
   * slow Redis too (flood control); released once, when it is dropped or
   * by whoever took it once its PUBLISH is answered.
   */
  held?: Batch;
}

/** Options for {@linkcode PublishBacklog}. */
export interface PublishBacklogOptions {
  /**
   * Most bytes queued (entry headers included, see `entrySize`).
   *
   * @default {16777216}
   */
  maxBytes?: number;
  /**
   * Oldest a batch may be (by its `completedAt`) and still be published.
   *
   * @default {2000}
   */
  maxDelayMs?: number;
  /** Told of every batch dropped, after it was released. */
  onDrop?: (entry: BacklogEntry, reason: BacklogDropReason) => void;
  /**
   * The clock, ms since the epoch.
   *
   * @default {Date.now}
   */
  now?: () => number;
}

/** A queued entry; emptied when the entry leaves, wherever it is listed. */
interface Slot {
  entry: BacklogEntry | undefined;
}

/** An array used as a FIFO: taken from `head`, compacted now and then. */
class Fifo<T> {
  items: T[] = [];
  head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): void {
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      // Never empty under steady traffic: drop the taken prefix so the
      // array does not grow without bound.
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

/** One sender's share: its queued entries, oldest first, and their bytes. */
interface Share {
  bytes: number;
  slots: Fifo<Slot>;
}

/**
 * A FIFO of local batches with a byte bound shared fairly per sender and
 * an age bound.
 *
 * @example
 * ```ts
 * import { deepEqual, equal } from "node:assert/strict";
 * import { PublishBacklog } from "./publish_backlog.ts";
 *
 * const dropped: number[] = [];
 * const backlog = new PublishBacklog({
 *   maxBytes: 100,
 *   onDrop: (entry) => dropped.push(entry.senderId),
 * });
 * const entry = (senderId: number) => ({
 *   completedAt: Date.now(),
 *   senderId,
 *   lineCount: 1,
 *   lineMark: 0,
 *   batch: new Uint8Array(20), // 44 bytes queued
 * });
 * backlog.push(entry(1));
 * backlog.push(entry(1));
 * backlog.push(entry(1)); // sender 1 holds the most: this one is dropped
 * backlog.push(entry(2)); // sender 1's oldest makes room
 * deepEqual(dropped, [1, 1]);
 * equal(backlog.take(1000).length, 2);
 * ```
 */
export class PublishBacklog {
  readonly #maxBytes: number;
  readonly #maxDelayMs: number;
  readonly #onDrop: (entry: BacklogEntry, reason: BacklogDropReason) => void;
  readonly #now: () => number;
  /** Every entry in arrival order (slots of dropped ones are empty). */
  readonly #queue = new Fifo<Slot>();
  #bytes = 0;
  #count = 0;
  readonly #shares = new Map<number, Share>();

  /** Creates an empty backlog; see {@linkcode PublishBacklogOptions}. */
  constructor(options: PublishBacklogOptions = {}) {
    this.#maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
    this.#maxDelayMs = options.maxDelayMs ?? 2000;
    this.#onDrop = options.onDrop ?? (() => {});
    this.#now = options.now ?? Date.now;
  }

  /** Bytes queued (entry headers included). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Batches queued. */
  get length(): number {
    return this.#count;
  }

  /** Bytes queued for `senderId`. */
  bytesOf(senderId: number): number {
    return this.#shares.get(senderId)?.bytes ?? 0;
  }

  /**
   * When the oldest batch expires (ms since the epoch), or `undefined`
   * when the backlog is empty.
   */
  get nextExpiry(): number | undefined {
    const oldest = this.#oldest()?.entry;
    return oldest === undefined
      ? undefined
      : oldest.completedAt + this.#maxDelayMs;
  }

  /**
   * Queues `entry` under the fair-share rule; returns whether it was
   * queued (if not, it was reported dropped as `"full"`).
   */
  push(entry: BacklogEntry): boolean {
    const size = entrySize(entry.batch);
    const own = this.bytesOf(entry.senderId) + size;
    while (this.#bytes + size > this.#maxBytes) {
      const heaviest = this.#heaviestOther(entry.senderId);
      if (heaviest === undefined || heaviest.bytes <= own) {
        this.#report(entry, "full");
        return false;
      }
      this.#drop(heaviest.slots.peek()!, "full");
    }
    let share = this.#shares.get(entry.senderId);
    if (share === undefined) {
      share = { bytes: 0, slots: new Fifo() };
      this.#shares.set(entry.senderId, share);
    }
    const slot: Slot = { entry };
    share.slots.push(slot);
    share.bytes += size;
    this.#queue.push(slot);
    this.#bytes += size;
    this.#count++;
    return true;
  }

  /**
   * Drops what has expired, then removes and returns the oldest batches
   * that fit in `maxBytes` together (at least one, if any is queued). The
   * caller releases their `held` batches once their PUBLISH is answered.
   */
  take(maxBytes: number): BacklogEntry[] {
    this.expire();
    const taken: BacklogEntry[] = [];
    let size = 0;
    for (let slot = this.#oldest(); slot !== undefined; slot = this.#oldest()) {
      const entry = slot.entry!;
      const next = entrySize(entry.batch);
      if (taken.length > 0 && size + next > maxBytes) break;
      size += next;
      this.#remove(slot);
      taken.push(entry);
    }
    return taken;
  }

  /** Drops every batch older than `maxDelayMs`; returns how many. */
  expire(): number {
    const limit = this.#now() - this.#maxDelayMs;
    let dropped = 0;
    for (let slot = this.#oldest(); slot !== undefined; slot = this.#oldest()) {
      if (!(slot.entry!.completedAt < limit)) break;
      this.#drop(slot, "expired");
      dropped++;
    }
    return dropped;
  }

  /** Drops everything (Redis is down, or the bus is closing). */
  clear(): void {
    for (let slot = this.#oldest(); slot !== undefined; slot = this.#oldest()) {
      this.#drop(slot, "cleared");
    }
  }

  /** The oldest live slot, skipping those emptied by fair-share drops. */
  #oldest(): Slot | undefined {
    const queue = this.#queue;
    let slot = queue.peek();
    while (slot !== undefined && slot.entry === undefined) {
      queue.shift();
      slot = queue.peek();
    }
    return slot;
  }

  /** The sender other than `senderId` holding the most bytes. */
  #heaviestOther(senderId: number): Share | undefined {
    let heaviest: Share | undefined;
    for (const [id, share] of this.#shares) {
      if (
        id !== senderId &&
        (heaviest === undefined || share.bytes > heaviest.bytes)
      ) {
        heaviest = share;
      }
    }
    return heaviest;
  }

  #drop(slot: Slot, reason: BacklogDropReason): void {
    const entry = slot.entry!;
    this.#remove(slot);
    this.#report(entry, reason);
  }

  #report(entry: BacklogEntry, reason: BacklogDropReason): void {
    entry.held?.release();
    this.#onDrop(entry, reason);
  }

  /**
   * Takes a live entry out of its sender's share and empties its slot
   * (the queue skips it). A sender's entries always leave oldest first:
   * taken or expired from the queue's head, or dropped from the head of
   * its share, so the slot is at the head of its share.
   */
  #remove(slot: Slot): void {
    const entry = slot.entry!;
    slot.entry = undefined;
    const size = entrySize(entry.batch);
    this.#bytes -= size;
    this.#count--;
    const share = this.#shares.get(entry.senderId)!;
    share.slots.shift();
    share.bytes -= size;
    if (share.slots.size === 0) this.#shares.delete(entry.senderId);
  }
}
