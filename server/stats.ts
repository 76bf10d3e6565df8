/**
 * Server-wide counters, the source of the shutdown summary.
 *
 * @module
 */

import {
  CLOSE_REASONS,
  type CloseReason,
  OUTPUT_LIMITS,
  type OutputLimit,
} from "./close_reason.ts";
import type { LogFields } from "./logger.ts";

function zeroes<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;
}

/** A log key in one style: `line-too-long` becomes `line_too_long`. */
function snake(name: string): string {
  return name.replaceAll("-", "_");
}

/**
 * Counters kept by a running server.
 *
 * @example
 * ```ts
 * import { ServerStats } from "./stats.ts";
 * const stats = new ServerStats();
 * stats.closes["slow-consumer"]++;
 * console.log(stats.summary({ linesRelayed: 0, deliveries: 0 }));
 * ```
 */
export class ServerStats {
  /** Connections accepted (including those closed as `server-full`). */
  accepted = 0;
  /** Accepts that failed (a peer gone before its accept, EMFILE…). */
  acceptErrors = 0;
  /**
   * Ops-port connections closed while sending their request head: the
   * longest-waiting when all slots were taken, or over the per-address
   * share.
   */
  httpRefused = 0;
  /** Clients that joined the room. */
  clientsServed = 0;
  /** Lines received from this server's clients (and relayed). */
  linesReceived = 0;
  /** Bytes read from clients. */
  bytesIn = 0;
  /** Bytes written to clients. */
  bytesOut = 0;
  /** Closes by reason. */
  readonly closes: Record<CloseReason, number> = zeroes(CLOSE_REASONS);
  /** `slow-consumer` closes by the limit that fired. */
  readonly slowConsumers: Record<OutputLimit, number> = zeroes(OUTPUT_LIMITS);
  /** Times a sender was paused by flood control (§4.9). */
  floodPauses = 0;
  /** Flood-control pauses that ended because the wait ran out. */
  floodWaitsExpired = 0;
  /** Times a client's output stalled and stopped holding senders back. */
  outputStalls = 0;
  /** Times a client was read more slowly for `maxInputRate`. */
  inputThrottles = 0;
  /** Times a WebSocket client was read more slowly for `maxControlRate`. */
  controlThrottles = 0;

  /**
   * The shutdown summary as log fields: clients served, lines relayed,
   * deliveries, bytes, flood-control counts, and one `closes_<reason>`
   * and `slow_consumer_<limit>` count per reason and limit seen (keys in
   * snake_case).
   */
  summary(room: { linesRelayed: number; deliveries: number }): LogFields {
    const fields: LogFields = {
      clients_served: this.clientsServed,
      lines_relayed: room.linesRelayed,
      deliveries: room.deliveries,
      bytes_in: this.bytesIn,
      bytes_out: this.bytesOut,
    };
    const counts: [string, number][] = [
      ["accept_errors", this.acceptErrors],
      ["http_refused", this.httpRefused],
      ["flood_pauses", this.floodPauses],
      ["flood_waits_expired", this.floodWaitsExpired],
      ["output_stalls", this.outputStalls],
      ["input_throttles", this.inputThrottles],
      ["control_throttles", this.controlThrottles],
      ...CLOSE_REASONS.map((reason): [string, number] => [
        `closes_${snake(reason)}`,
        this.closes[reason],
      ]),
      ...OUTPUT_LIMITS.map((limit): [string, number] => [
        `slow_consumer_${snake(limit)}`,
        this.slowConsumers[limit],
      ]),
    ];
    for (const [key, count] of counts) if (count > 0) fields[key] = count;
    return fields;
  }
}
