/**
 * The chat room: who is in it, and fan-out of line batches to the others.
 * It knows nothing of sockets, so TCP clients, WebSocket clients and a
 * cross-node bus can all be members.
 *
 * @module
 */

import type { Batch } from "./batch.ts";

/**
 * Anything that can be in a room and receive lines.
 *
 * @example
 * ```ts
 * import type { RoomMember } from "./room.ts";
 * const member: RoomMember = { id: 1, deliver: (batch) => console.log(batch.lineCount) };
 * ```
 */
export interface RoomMember {
  /** Unique within the room; also names the member in logs. */
  readonly id: number;
  /**
   * Queues a batch of lines for this member. Must not block or await: a
   * slow member queues or drops itself. A member that keeps the batch
   * queued {@linkcode Batch.hold}s it until it has taken it, which holds
   * the sender back (flood control).
   */
  deliver(batch: Batch): void;
}

/**
 * Listens to every batch the room relays, e.g. to publish it to other
 * nodes; it may {@linkcode Batch.hold} the batch like a member.
 */
export type BroadcastListener<M extends RoomMember> = (
  from: M | null,
  batch: Batch,
) => void;

/**
 * A set of members; a batch from one member goes to every other member.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { Batch } from "./batch.ts";
 * import { Room, type RoomMember } from "./room.ts";
 *
 * const got: string[] = [];
 * const member = (id: number): RoomMember => ({
 *   id,
 *   deliver: (batch) =>
 *     got.push(`${id}:${new TextDecoder().decode(batch.bytes)}`),
 * });
 * const room = new Room();
 * const [a, b, c] = [member(1), member(2), member(3)];
 * room.join(a);
 * room.join(b);
 * room.join(c);
 * room.broadcast(a, new Batch(new TextEncoder().encode("hi\r\n"), 1));
 * deepEqual(got, ["2:hi\r\n", "3:hi\r\n"]);
 * ```
 */
export class Room<M extends RoomMember = RoomMember> {
  readonly #members = new Set<M>();
  readonly #listeners: BroadcastListener<M>[] = [];
  #linesRelayed = 0;
  #deliveries = 0;

  /** How many members are in the room. */
  get size(): number {
    return this.#members.size;
  }

  /** Lines accepted for relay since the room was made. */
  get linesRelayed(): number {
    return this.#linesRelayed;
  }

  /** Lines handed to recipients (a line to N others counts N). */
  get deliveries(): number {
    return this.#deliveries;
  }

  /** The members, in the order they joined. */
  members(): IterableIterator<M> {
    return this.#members.values();
  }

  /** Adds a member; from now on it receives what others send. */
  join(member: M): void {
    this.#members.add(member);
  }

  /** Removes a member; returns whether it was in the room. */
  leave(member: M): boolean {
    return this.#members.delete(member);
  }

  /** Calls `listener` for every batch broadcast from now on. */
  onBroadcast(listener: BroadcastListener<M>): void {
    this.#listeners.push(listener);
  }

  /**
   * Delivers `batch` to every member except `from`; `from` is `null` for
   * lines that came from outside the room (another node), which go to
   * everyone. A batch nobody holds is settled with its sender at once.
   */
  broadcast(from: M | null, batch: Batch): void {
    const lineCount = batch.lineCount;
    this.#linesRelayed += lineCount;
    // Held during the fan-out, so the first recipient to take it cannot
    // settle it before the last one queued it.
    batch.hold();
    let recipients = 0;
    for (const member of this.#members) {
      if (member === from) continue;
      member.deliver(batch);
      recipients++;
    }
    this.#deliveries += recipients * lineCount;
    for (const listener of this.#listeners) listener(from, batch);
    batch.release();
  }

  /**
   * Delivers `batch` to the members `accept` lets through (lines from
   * another node that only members connected in time may get, §2.9).
   */
  deliverTo(batch: Batch, accept: (member: M) => boolean): void {
    batch.hold();
    let recipients = 0;
    for (const member of this.#members) {
      if (!accept(member)) continue;
      member.deliver(batch);
      recipients++;
    }
    this.#linesRelayed += batch.lineCount;
    this.#deliveries += recipients * batch.lineCount;
    batch.release();
  }
}
