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
   * unreachable, lost with a failed PUBLISH, or dropped because the
   * publish backlog was full. Local clients got them; other nodes did not.
   */
  linesUnpublished = 0;
  /** Batches (one sender's lines from one read) among those lines. */
  batchesUnpublished = 0;
  /** Messages received from other nodes. */
  messagesReceived = 0;
  /** Lines in those messages, delivered to the local clients. */
  linesReceived = 0;
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

  /** The counters as log fields (`snake_case`). */
  summary(): LogFields {
    return {
      messages_published: this.messagesPublished,
      lines_published: this.linesPublished,
      bytes_published: this.bytesPublished,
      lines_unpublished: this.linesUnpublished,
      batches_unpublished: this.batchesUnpublished,
      messages_received: this.messagesReceived,
      lines_received: this.linesReceived,
      bytes_received: this.bytesReceived,
      own_messages_skipped: this.ownMessagesSkipped,
      messages_missed: this.messagesMissed,
      malformed_messages: this.malformedMessages,
      publisher_disconnects: this.publisherDisconnects,
      subscriber_disconnects: this.subscriberDisconnects,
    };
  }
}
