// The publishing half of the cluster bus: local batches are queued in a
// `PublishBacklog` (held, so a slow Redis slows their senders as a slow
// client would), published together once the current turn of the event
// loop ends, and dropped when Redis is down, the backlog is full or they
// waited longer than `maxDelayMs`; every line not published is counted
// and reported. Not re-exported.

import type { Batch } from "../server/batch.ts";
import { WindowedReport } from "./_windowed_report.ts";
import type { BusStats } from "./bus_stats.ts";
import { encodeMessage, HEADER_BYTES } from "./message.ts";
import {
  type BacklogDropReason,
  type BacklogEntry,
  PublishBacklog,
} from "./publish_backlog.ts";
import type { ResolvedRedisBusOptions } from "./redis_bus_options.ts";

/** What the publisher needs of its Redis connection (a `RedisLink`). */
export interface PublishLink {
  /** Lost and not back yet: lines are not queued meanwhile. */
  readonly down: boolean;
  /** PUBLISHes `message`; rejects if Redis did not take it. */
  publish(channel: string, message: Uint8Array): Promise<unknown>;
  /** Told of lines not published, for the outage's `redis-resumed`. */
  countUnpublished(lines: number): void;
}

/** Options for {@linkcode BusPublisher}. */
export interface BusPublisherOptions extends
  Pick<
    ResolvedRedisBusOptions,
    | "channel"
    | "logger"
    | "nodeId"
    | "nodeIdHex"
    | "maxMessageBytes"
    | "maxInFlight"
    | "maxBacklogBytes"
    | "maxDelayMs"
  > {
  /** Where what is published and what is not is counted. */
  stats: BusStats;
  /** The connection messages go out on. */
  link: PublishLink;
  /** Whether the bus is closing: new batches are then not published. */
  closing: () => boolean;
}

/**
 * Publishes a node's local batches: as few messages as fit in
 * `maxMessageBytes`, at most `maxInFlight` awaiting Redis at a time,
 * each batch held until its PUBLISH is answered or it is dropped.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { Batch } from "../server/batch.ts";
 * import { BusStats } from "./bus_stats.ts";
 * import { BusPublisher } from "./_bus_publisher.ts";
 * import { resolveRedisBusOptions } from "./redis_bus_options.ts";
 *
 * const sent: Uint8Array[] = [];
 * const stats = new BusStats();
 * const publisher = new BusPublisher({
 *   ...resolveRedisBusOptions({ url: "redis://127.0.0.1" }),
 *   stats,
 *   link: {
 *     down: false,
 *     publish: (_channel, message) => Promise.resolve(sent.push(message)),
 *     countUnpublished: () => {},
 *   },
 *   closing: () => false,
 * });
 * const line = new TextEncoder().encode("hi\r\n");
 * publisher.offer(1, new Batch(line, 1));
 * publisher.offer(2, new Batch(line, 1));
 * await publisher.idle(1000);
 * equal(sent.length, 1); // both batches in one message
 * equal(stats.linesPublished, 2);
 * ```
 */
export class BusPublisher {
  readonly #options: BusPublisherOptions;
  readonly #backlog: PublishBacklog;
  readonly #backlogFull: WindowedReport;
  readonly #expired: WindowedReport;
  #inFlight = 0;
  #flushScheduled = false;
  #expiryTimer: ReturnType<typeof setTimeout> | undefined;
  #sequence = 0;
  /** Local lines offered to the bus so far (mod 2^32): the line mark. */
  #lineMark = 0;
  #onIdle: (() => void) | undefined;

  /** Creates an idle publisher; see {@linkcode BusPublisherOptions}. */
  constructor(options: BusPublisherOptions) {
    this.#options = options;
    const { logger, nodeIdHex, maxBacklogBytes, maxDelayMs } = options;
    this.#backlog = new PublishBacklog({
      maxBytes: maxBacklogBytes,
      maxDelayMs,
      onDrop: (entry, reason) => this.#dropped(entry, reason),
    });
    this.#backlogFull = new WindowedReport(logger, "cluster-backlog-full", {
      node: nodeIdHex,
      max_backlog_bytes: maxBacklogBytes,
      effect:
        "lines of the senders holding the most of the backlog are relayed locally only",
    });
    this.#expired = new WindowedReport(logger, "cluster-expired", {
      node: nodeIdHex,
      max_delay_ms: maxDelayMs,
      effect: "lines not published in time are relayed locally only",
    });
  }

  /** Bytes of local batches waiting to be published. */
  get backlogBytes(): number {
    return this.#backlog.bytes;
  }

  /**
   * Takes a local batch of `senderId` for publishing. Never throws: the
   * caller is the local relay, which the bus must not break.
   */
  offer(senderId: number, batch: Batch): void {
    try {
      this.#publish(senderId, batch);
    } catch (error) {
      this.#unpublished(batch.lineCount, 1);
      this.#options.logger.event("internal-error", {
        where: "cluster-publish",
        error: String(error),
      });
    }
  }

  /**
   * Drops everything queued (Redis was lost): it would be published
   * late, if ever, and dropping it stops holding its senders back.
   */
  clear(): void {
    this.#backlog.clear();
  }

  /** Whether batches are queued or awaiting Redis's reply. */
  get pending(): boolean {
    return this.#inFlight > 0 || this.#backlog.length > 0;
  }

  /**
   * Resolves when what is {@linkcode BusPublisher.pending} has been
   * published or dropped, or after `timeoutMs`, whichever comes first.
   */
  async idle(timeoutMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.#onIdle = resolve),
      new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs)),
    ]);
    clearTimeout(timer);
  }

  /** Drops what is still queued and stops dropping by age (closing). */
  stop(): void {
    this.#backlog.clear();
    clearTimeout(this.#expiryTimer);
  }

  /** Logs what the reports still owe (before the bus's summary). */
  closeReports(): void {
    this.#backlogFull.close();
    this.#expired.close();
  }

  #publish(senderId: number, batch: Batch): void {
    const lineCount = batch.lineCount;
    // Every local line counts, published or not, so receivers can count
    // what they missed from the marks (see message.ts).
    this.#lineMark = (this.#lineMark + lineCount) >>> 0;
    if (this.#options.closing() || this.#options.link.down) {
      this.#unpublished(lineCount, 1);
      return;
    }
    // Held until its PUBLISH is answered or it is dropped: a Redis that
    // takes nothing slows the sender like a client that reads nothing,
    // for at most the sender window's wait (flood control, §4.9).
    batch.hold();
    const queued = this.#backlog.push({
      completedAt: Date.now(),
      senderId,
      lineCount,
      batch: batch.bytes,
      lineMark: this.#lineMark,
      held: batch,
    });
    if (!queued) return;
    this.#armExpiry();
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      // After the current turn, so batches of many clients go together.
      queueMicrotask(() => {
        this.#flushScheduled = false;
        this.#flush();
      });
    }
  }

  #unpublished(lines: number, batches: number): void {
    const { stats } = this.#options;
    stats.linesUnpublished += lines;
    stats.batchesUnpublished += batches;
    this.#options.link.countUnpublished(lines);
  }

  /** The backlog dropped a batch (already released); count and report. */
  #dropped(entry: BacklogEntry, reason: BacklogDropReason): void {
    const { stats } = this.#options;
    this.#unpublished(entry.lineCount, 1);
    if (reason === "full") {
      stats.linesBacklogFull += entry.lineCount;
      this.#backlogFull.add({ lines_dropped: entry.lineCount }, {
        backlog_bytes: this.#backlog.bytes,
      });
    } else if (reason === "expired") {
      stats.linesExpired += entry.lineCount;
      this.#expired.add({ lines_dropped: entry.lineCount }, {
        waited_ms: Date.now() - entry.completedAt,
      });
    }
  }

  /** Drops queued batches as they pass `maxDelayMs`, even if none is sent. */
  #armExpiry(): void {
    if (this.#expiryTimer !== undefined) return;
    const next = this.#backlog.nextExpiry;
    if (next === undefined) return;
    this.#expiryTimer = setTimeout(() => {
      this.#expiryTimer = undefined;
      this.#backlog.expire();
      this.#settled();
      this.#armExpiry();
    }, Math.max(0, next - Date.now()) + 1);
    Deno.unrefTimer(this.#expiryTimer as unknown as number);
  }

  /** Sends queued batches, as few messages as fit, while slots are free. */
  #flush(): void {
    const { channel, link, maxInFlight, maxMessageBytes, nodeId, stats } =
      this.#options;
    while (this.#inFlight < maxInFlight) {
      const entries = this.#backlog.take(maxMessageBytes - HEADER_BYTES);
      if (entries.length === 0) break;
      let lines = 0;
      for (const entry of entries) lines += entry.lineCount;
      const message = encodeMessage(
        nodeId,
        this.#sequence,
        entries,
        entries[entries.length - 1].lineMark,
      );
      this.#sequence = (this.#sequence + 1) >>> 0;
      this.#inFlight++;
      link.publish(channel, message).then(
        () => {
          stats.messagesPublished++;
          stats.linesPublished += lines;
          stats.bytesPublished += message.length;
        },
        () => this.#unpublished(lines, entries.length),
      ).finally(() => {
        for (const entry of entries) entry.held?.release();
        this.#inFlight--;
        this.#flush();
      });
    }
    this.#settled();
  }

  /** Tells a waiting {@linkcode BusPublisher.idle} that all is settled. */
  #settled(): void {
    if (this.#backlog.length === 0 && this.#inFlight === 0) this.#onIdle?.();
  }
}
