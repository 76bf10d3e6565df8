/**
 * What `/metrics` says of a running server: clients by transport, lines
 * and bytes in and out, deliveries, closes by reason, pending output, the
 * flood-control and log counters.
 *
 * @module
 */

import type { ServerStats } from "./stats.ts";
import type { TransportKind } from "./transport.ts";
import type { Logger } from "./logger.ts";
import { labelled, type MetricFamily, single } from "./metrics.ts";

/** What the metrics are read from: a running `ChatServer`. */
export interface MetricsSource {
  readonly stats: ServerStats;
  readonly room: { readonly linesRelayed: number; readonly deliveries: number };
  readonly clientsByKind: Record<TransportKind, number>;
  readonly ledger: { readonly total: number };
  readonly shuttingDown: boolean;
}

/**
 * The server's metric families, named after Prometheus conventions
 * (`linechat_` prefix, `_total` for counters, units in the name).
 *
 * @example
 * ```ts ignore
 * import { formatMetrics } from "./metrics.ts";
 * import { serverMetrics } from "./server_metrics.ts";
 * console.log(formatMetrics(serverMetrics(server, logger)));
 * ```
 */
export function serverMetrics(
  server: MetricsSource,
  logger: Logger,
): MetricFamily[] {
  const { stats, room } = server;
  const counter = (name: string, help: string, value: number) =>
    single(name, help, "counter", value);
  return [
    single(
      "linechat_up",
      "1 while the server accepts clients, 0 while it shuts down.",
      "gauge",
      server.shuttingDown ? 0 : 1,
    ),
    labelled(
      "linechat_clients",
      "Clients connected now, by transport.",
      "gauge",
      "transport",
      server.clientsByKind,
    ),
    counter(
      "linechat_connections_accepted_total",
      "Connections accepted, those refused at once included.",
      stats.accepted,
    ),
    counter(
      "linechat_clients_served_total",
      "Clients that joined the room.",
      stats.clientsServed,
    ),
    counter(
      "linechat_lines_received_total",
      "Lines this server's clients sent.",
      stats.linesReceived,
    ),
    counter(
      "linechat_lines_relayed_total",
      "Lines relayed to the room, other nodes' included.",
      room.linesRelayed,
    ),
    counter(
      "linechat_deliveries_total",
      "Lines handed to recipients (a line to N clients counts N).",
      room.deliveries,
    ),
    counter(
      "linechat_received_bytes_total",
      "Bytes read from clients.",
      stats.bytesIn,
    ),
    counter(
      "linechat_sent_bytes_total",
      "Bytes written to clients.",
      stats.bytesOut,
    ),
    labelled(
      "linechat_closes_total",
      "Clients closed, by close reason.",
      "counter",
      "reason",
      stats.closes,
    ),
    labelled(
      "linechat_slow_consumers_total",
      "slow-consumer closes, by the limit that fired.",
      "counter",
      "limit",
      stats.slowConsumers,
    ),
    single(
      "linechat_pending_output_bytes",
      "Output held for all clients now, at real cost.",
      "gauge",
      server.ledger.total,
    ),
    counter(
      "linechat_flood_pauses_total",
      "Times a sender was paused by flood control.",
      stats.floodPauses,
    ),
    counter(
      "linechat_flood_waits_expired_total",
      "Flood-control pauses that ended because the wait ran out.",
      stats.floodWaitsExpired,
    ),
    counter(
      "linechat_output_stalls_total",
      "Times a client's output stopped moving and stopped holding senders back.",
      stats.outputStalls,
    ),
    counter(
      "linechat_input_throttles_total",
      "Times a client was read more slowly for --max-input-rate.",
      stats.inputThrottles,
    ),
    counter(
      "linechat_control_throttles_total",
      "Times a WebSocket client was read more slowly for --max-control-rate.",
      stats.controlThrottles,
    ),
    counter(
      "linechat_accept_errors_total",
      "Accepts that failed.",
      stats.acceptErrors,
    ),
    counter(
      "linechat_http_refused_total",
      "Ops-port connections closed while sending their request head (--http-max-pending, --http-max-pending-per-ip).",
      stats.httpRefused,
    ),
    counter(
      "linechat_log_lines_dropped_total",
      "Log lines dropped because stdout could not take them.",
      logger.dropped,
    ),
  ];
}
