/**
 * Counters of a node's cluster bus: what it published, received, skipped
 * and could not publish.
 *
 * @module
 */

import type { LogFields } from "../server/logger.ts";

/**
 * Counters kept by a {@linkcode RedisBus}; logged as `cluster-closed` when
 * the bus closes.
 *
 * @example
 * ```ts
 * import { BusStats } from "./bus_stats.ts";
 * const stats = new BusStats();
 * stats.linesUnpublished += 3;
 * console.log(stats.summary().lines_unpublished); // 3
 * ```
 */
export class BusStats {
  /** PUBLISH commands Redis acknowledged. */
  messagesPublished = 0;
  /** Local lines in those messages. */
  linesPublished = 0;
  /** Bytes of those messages (headers included). */
  bytesPublished = 0;
  /**
   * Local lines that never reached Redis: relayed while Redis was
   * unreachable or stalled, lost with a failed PUBLISH, dropped because
   * the publish backlog was full, or because they waited longer than the
   * bus's `maxDelayMs`. Local clients got them; other nodes did not.
   */
  linesUnpublished = 0;
  /** Batches (one sender's lines from one read) among those lines. */
  batchesUnpublished = 0;
  /**
   * Of `linesUnpublished`: dropped because the backlog was full, from the
   * sender holding the most of it (the fair-share rule).
   */
  linesBacklogFull = 0;
  /** Of `linesUnpublished`: waited to be published longer than `maxDelayMs`. */
  linesExpired = 0;
  /** Messages received from other nodes. */
  messagesReceived = 0;
  /** Lines in those messages delivered to the local clients. */
  linesReceived = 0;
  /**
   * Lines of other nodes that arrived older than `maxDelayMs` (by their
   * `completedAt` and this node's clock) and were dropped, not delivered.
   */
  linesLate = 0;
  /** Batches among those lines. */
  batchesLate = 0;
  /**
   * Lines of other nodes that never arrived here, counted from the line
   * marks of their messages when the next one arrives: lines their node
   * did not publish, and lines lost on the way (Redis down, or this
   * node's subscription down or dropped).
   */
  linesMissed = 0;
  /**
   * The oldest a delivered batch of another node was on arrival, in ms
   * (its `completedAt` to this node's clock); at most `maxDelayMs`.
   */
  maxReceivedAgeMs = 0;
  /** Bytes of those messages. */
  bytesReceived = 0;
  /** This node's own messages, which come back and are skipped. */
  ownMessagesSkipped = 0;
  /**
   * Messages of other nodes that never arrived here, found by gaps in
   * their sequence numbers (lost while Redis or this node's subscription
   * was down, or never published by their node).
   */
  messagesMissed = 0;
  /** Messages that were not in the bus format (ignored). */
  malformedMessages = 0;
  /** Times the publishing connection was lost. */
  publisherDisconnects = 0;
  /**
   * Times the subscribing connection was lost, e.g. when Redis closed it
   * for exceeding `client-output-buffer-limit pubsub`.
   */
  subscriberDisconnects = 0;
  /**
   * Of `publisherDisconnects`: the connection went silent for the stall
   * timeout (Redis paused, blocked, or unreachable without a reset).
   */
  publisherStalls = 0;
  /** Of `subscriberDisconnects`: the same for the subscribing connection. */
  subscriberStalls = 0;

  /** The counters as log fields (`snake_case`). */
  summary(): LogFields {
    return {
      messages_published: this.messagesPublished,
      lines_published: this.linesPublished,
      bytes_published: this.bytesPublished,
      lines_unpublished: this.linesUnpublished,
      batches_unpublished: this.batchesUnpublished,
      lines_backlog_full: this.linesBacklogFull,
      lines_expired: this.linesExpired,
      messages_received: this.messagesReceived,
      lines_received: this.linesReceived,
      lines_late: this.linesLate,
      batches_late: this.batchesLate,
      lines_missed: this.linesMissed,
      max_received_age_ms: Math.round(this.maxReceivedAgeMs),
      bytes_received: this.bytesReceived,
      own_messages_skipped: this.ownMessagesSkipped,
      messages_missed: this.messagesMissed,
      malformed_messages: this.malformedMessages,
      publisher_disconnects: this.publisherDisconnects,
      subscriber_disconnects: this.subscriberDisconnects,
      publisher_stalls: this.publisherStalls,
      subscriber_stalls: this.subscriberStalls,
    };
  }
}
