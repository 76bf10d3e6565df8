/**
 * What `/metrics` says of a node's cluster bus: whether Redis is up, and
 * the lines published, received, dropped as late, missed or unpublished.
 *
 * @module
 */

import { type MetricFamily, single } from "../server/metrics.ts";
import type { BusStats } from "./bus_stats.ts";

/**
 * The bus's metric families (`linechat_bus_…`).
 *
 * @example
 * ```ts
 * import { BusStats } from "./bus_stats.ts";
 * import { busMetrics } from "./bus_metrics.ts";
 * console.log(busMetrics(new BusStats(), true)[0].name); // "linechat_bus_connected"
 * ```
 */
export function busMetrics(
  stats: BusStats,
  connected: boolean,
): MetricFamily[] {
  const counter = (name: string, help: string, value: number) =>
    single(`linechat_bus_${name}_total`, help, "counter", value);
  return [
    single(
      "linechat_bus_connected",
      "1 while both Redis connections are up.",
      "gauge",
      connected ? 1 : 0,
    ),
    counter(
      "messages_published",
      "PUBLISH commands Redis answered.",
      stats.messagesPublished,
    ),
    counter(
      "lines_published",
      "Local lines published to the other nodes.",
      stats.linesPublished,
    ),
    counter("published_bytes", "Bytes published.", stats.bytesPublished),
    counter(
      "lines_unpublished",
      "Local lines not published (Redis down, stalled, or the backlog full).",
      stats.linesUnpublished,
    ),
    counter(
      "lines_backlog_full",
      "Local lines dropped because the sender held the most of a full backlog.",
      stats.linesBacklogFull,
    ),
    counter(
      "lines_expired",
      "Local lines dropped because they could not be published within --bus-max-delay-ms.",
      stats.linesExpired,
    ),
    counter(
      "lines_received",
      "Lines of other nodes delivered here.",
      stats.linesReceived,
    ),
    counter(
      "lines_late",
      "Lines of other nodes dropped as older than --bus-max-delay-ms.",
      stats.linesLate,
    ),
    counter(
      "lines_missed",
      "Lines of other nodes that never arrived (from their line marks).",
      stats.linesMissed,
    ),
    counter(
      "malformed_messages",
      "Messages on the channel that were not bus messages.",
      stats.malformedMessages,
    ),
    counter(
      "publisher_stalls",
      "Times the publishing connection was found stalled.",
      stats.publisherStalls,
    ),
    counter(
      "subscriber_stalls",
      "Times the subscribing connection was found stalled.",
      stats.subscriberStalls,
    ),
  ];
}
