// The receiving half of the cluster bus: decodes what the room's channel
// carries, skips the node's own messages, accounts for each other node's
// sequence numbers and line marks (gaps, replays), drops lines older
// than `maxDelayMs`, warns of clocks ahead, and delivers the rest to the
// local room, to the members connected in time (§2.1, §2.9). It needs no
// Redis: it is handed each message's bytes. Not re-exported.

import { Batch } from "../server/batch.ts";
import type { Room, RoomMember } from "../server/room.ts";
import { WindowedReport } from "./_windowed_report.ts";
import type { BusStats } from "./bus_stats.ts";
import {
  type BusEntry,
  type BusMessage,
  decodeMessage,
  MESSAGE_VERSION,
  NODE_ID_BYTES,
  nodeIdHex,
} from "./message.ts";
import type { ResolvedRedisBusOptions } from "./redis_bus_options.ts";

/**
 * A batch stamped this far in the receiving node's future means the two
 * clocks disagree (lateness is judged across them), which is logged.
 */
export const CLOCK_SKEW_WARN_MS = 100;

/** Options for {@linkcode BusReceiver}. */
export interface BusReceiverOptions extends
  Pick<
    ResolvedRedisBusOptions,
    "logger" | "nodeId" | "nodeIdHex" | "maxDelayMs" | "joinSlackMs"
  > {
  /** Where what is received, skipped, late and missed is counted. */
  stats: BusStats;
}

/** What this node knows of another node's messages. */
interface Peer {
  /** The sequence number its next message should have. */
  nextSequence: number;
  /** The line mark of its last message (`undefined` for version 1). */
  lineMark: number | undefined;
  /** Reports its lost lines (`cluster-gap`). */
  gaps: WindowedReport;
  /** Reports its batches dropped as late (`cluster-late`). */
  late: WindowedReport;
  /** Reports batches stamped in this node's future (`cluster-clock-skew`). */
  skew: WindowedReport;
}

/**
 * Delivers other nodes' messages to a local room, counting and reporting
 * every line it does not deliver.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { Room } from "../server/room.ts";
 * import { Logger } from "../server/logger.ts";
 * import { BusStats } from "./bus_stats.ts";
 * import { BusReceiver } from "./_bus_receiver.ts";
 * import { encodeMessage, newNodeId } from "./message.ts";
 *
 * const got: number[] = [];
 * const room = new Room();
 * room.join({ id: 1, deliver: (batch) => got.push(batch.lineCount) });
 * const stats = new BusStats();
 * const receiver = new BusReceiver({
 *   logger: new Logger({ write: () => {} }),
 *   nodeId: newNodeId(),
 *   nodeIdHex: "0000000000000001",
 *   maxDelayMs: 2000,
 *   joinSlackMs: 2,
 *   stats,
 * });
 * receiver.attach(room);
 * const batch = new TextEncoder().encode("hi\r\n");
 * receiver.receive(encodeMessage(newNodeId(), 0, [
 *   { completedAt: Date.now(), senderId: 7, lineCount: 1, batch },
 * ], 1));
 * equal(got[0], 1);
 * equal(stats.linesReceived, 1);
 * ```
 */
export class BusReceiver {
  readonly #options: BusReceiverOptions;
  /** Other nodes heard from, by hex id. */
  readonly #peers = new Map<string, Peer>();
  #room: Room<RoomMember> | undefined;

  /** Creates a receiver with no room yet: it counts, delivers nothing. */
  constructor(options: BusReceiverOptions) {
    this.#options = options;
  }

  /** The room messages are delivered to, once attached. */
  get room(): Room<RoomMember> | undefined {
    return this.#room;
  }

  /** Delivers from now on to `room`'s members. */
  attach(room: Room<RoomMember>): void {
    this.#room = room;
  }

  /**
   * Handles one message from the room's channel. Never throws: an error
   * is logged (`internal-error`) and the message skipped.
   */
  receive(message: Uint8Array): void {
    try {
      this.#receive(message);
    } catch (error) {
      this.#options.logger.event("internal-error", {
        where: "cluster-receive",
        error: String(error),
      });
    }
  }

  /** Logs what the reports still owe (before the bus's summary). */
  closeReports(): void {
    for (const peer of this.#peers.values()) {
      peer.gaps.close();
      peer.late.close();
      peer.skew.close();
    }
  }

  #receive(message: Uint8Array): void {
    const { stats, joinSlackMs, maxDelayMs } = this.#options;
    // A plain view: node-redis hands a Buffer, whose slices are Buffers.
    const bytes = new Uint8Array(
      message.buffer,
      message.byteOffset,
      message.byteLength,
    );
    if (
      (bytes[0] === MESSAGE_VERSION || bytes[0] === 1) && this.#isOwn(bytes)
    ) {
      stats.ownMessagesSkipped++;
      return;
    }
    let decoded;
    try {
      decoded = decodeMessage(bytes);
    } catch (error) {
      stats.malformedMessages++;
      if (stats.malformedMessages <= 10) {
        this.#options.logger.event("cluster-malformed", {
          node: this.#options.nodeIdHex,
          bytes: bytes.length,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      return;
    }
    stats.messagesReceived++;
    stats.bytesReceived += bytes.length;
    const now = Date.now();
    const peer = this.#peer(nodeIdHex(decoded.nodeId));
    let lines = 0;
    for (const entry of decoded.entries) lines += entry.lineCount;
    if (!this.#inOrder(peer, decoded, lines)) {
      // Older than a message already delivered (a replay, or a reorder
      // around a reconnect, which Redis does not do): delivering it
      // would break per-sender order (§2.6).
      stats.linesLate += lines;
      stats.batchesLate += decoded.entries.length;
      peer.late.add({
        lines_late: lines,
        batches_late: decoded.entries.length,
      }, { age_ms: now - decoded.entries[0].completedAt });
      return;
    }
    const room = this.#room;
    // One pass over the members per message: who joined last.
    const newest = room === undefined
      ? -Infinity
      : newestJoin(room) - joinSlackMs;
    let lateLines = 0;
    let lateBatches = 0;
    let oldest = -Infinity;
    for (const entry of decoded.entries) {
      const age = now - entry.completedAt;
      if (age < -CLOCK_SKEW_WARN_MS) {
        peer.skew.add({ batches: 1 }, { ahead_ms: -age });
      }
      if (age > maxDelayMs) {
        // Another node's line this old would arrive out of context: the
        // rule is within maxDelayMs or not at all.
        lateLines += entry.lineCount;
        lateBatches++;
        if (age > oldest) oldest = age;
        continue;
      }
      if (age > stats.maxReceivedAgeMs) stats.maxReceivedAgeMs = age;
      stats.linesReceived += entry.lineCount;
      if (room !== undefined) {
        deliverRemote(room, entry, newest, joinSlackMs);
      }
    }
    if (lateBatches > 0) {
      stats.linesLate += lateLines;
      stats.batchesLate += lateBatches;
      peer.late.add({ lines_late: lateLines, batches_late: lateBatches }, {
        age_ms: oldest,
      });
    }
  }

  #peer(from: string): Peer {
    let peer = this.#peers.get(from);
    if (peer === undefined) {
      const { logger, nodeIdHex, maxDelayMs } = this.#options;
      const fields = { node: nodeIdHex, from_node: from };
      peer = {
        nextSequence: -1,
        lineMark: undefined,
        gaps: new WindowedReport(logger, "cluster-gap", {
          ...fields,
          effect: "lines of that node never arrived here",
        }),
        late: new WindowedReport(logger, "cluster-late", {
          ...fields,
          max_delay_ms: maxDelayMs,
          effect: "lines of that node arrived too late and were dropped",
        }),
        skew: new WindowedReport(logger, "cluster-clock-skew", {
          ...fields,
          effect:
            "that node's clock is ahead of this one's: its lines may arrive up to ahead_ms later than the bound",
        }),
      };
      this.#peers.set(from, peer);
    }
    return peer;
  }

  /**
   * Checks `message` against what came before from its node: counts and
   * reports the messages and lines missed in between, and returns false
   * for a message older than one already received.
   */
  #inOrder(peer: Peer, message: BusMessage, lines: number): boolean {
    const { sequence, lineMark } = message;
    if (peer.nextSequence === -1) {
      // The first heard from this node: nothing to compare with.
      peer.nextSequence = (sequence + 1) >>> 0;
      peer.lineMark = lineMark;
      return true;
    }
    const missedMessages = (sequence - peer.nextSequence) >>> 0;
    if (missedMessages >= 2 ** 31) return false;
    let missedLines = 0;
    if (lineMark !== undefined && peer.lineMark !== undefined) {
      const offered = (lineMark - peer.lineMark) >>> 0;
      if (offered >= lines && offered < 2 ** 31) missedLines = offered - lines;
    }
    peer.nextSequence = (sequence + 1) >>> 0;
    peer.lineMark = lineMark;
    if (missedMessages > 0 || missedLines > 0) {
      const { stats } = this.#options;
      stats.messagesMissed += missedMessages;
      stats.linesMissed += missedLines;
      peer.gaps.add({
        messages_missed: missedMessages,
        lines_missed: missedLines,
      });
    }
    return true;
  }

  #isOwn(bytes: Uint8Array): boolean {
    const id = this.#options.nodeId;
    for (let i = 0; i < NODE_ID_BYTES; i++) {
      if (bytes[4 + i] !== id[i]) return false;
    }
    return true;
  }
}

/**
 * Delivers another node's batch to every local member connected when the
 * batch was completed (PROTOCOL.md §2.1, §2.9): a member that says when
 * it connected (`connectedAt`, ms since the epoch, as `ClientConnection`
 * does) and connected more than `slackMs` after `entry.completedAt` does
 * not get it. In the common case nobody is that new (`newest`, the latest
 * `connectedAt` less `slackMs`, is not after it) and the room's own
 * fan-out is used.
 */
function deliverRemote(
  room: Room<RoomMember>,
  entry: BusEntry,
  newest: number,
  slackMs: number,
): void {
  const { completedAt, lineCount } = entry;
  const batch = new Batch(entry.batch, lineCount);
  if (newest <= completedAt) {
    room.broadcast(null, batch);
    return;
  }
  const since = completedAt + slackMs;
  room.deliverTo(batch, (member) => !(connectedAt(member) > since));
}

/** The latest `connectedAt` of the room's members (-Infinity if none). */
function newestJoin(room: Room<RoomMember>): number {
  let newest = -Infinity;
  for (const member of room.members()) {
    const at = connectedAt(member);
    if (at > newest) newest = at;
  }
  return newest;
}

function connectedAt(member: RoomMember): number {
  const at = (member as { connectedAt?: unknown }).connectedAt;
  return typeof at === "number" ? at : -Infinity;
}
