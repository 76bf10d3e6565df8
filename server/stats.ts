/**
 * Server-wide counters, the source of the shutdown summary.
 *
 * @module
 */

import { CLOSE_REASONS, type CloseReason } from "./close_reason.ts";
import type { LogFields } from "./logger.ts";

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
  /** Clients that joined the room. */
  clientsServed = 0;
  /** Bytes read from clients. */
  bytesIn = 0;
  /** Bytes written to clients. */
  bytesOut = 0;
  /** Closes by reason. */
  readonly closes: Record<CloseReason, number> = Object.fromEntries(
    CLOSE_REASONS.map((reason) => [reason, 0]),
  ) as Record<CloseReason, number>;

  /**
   * The shutdown summary as log fields: clients served, lines relayed,
   * deliveries and one `closes_<reason>` count per reason seen.
   */
  summary(room: { linesRelayed: number; deliveries: number }): LogFields {
    const fields: LogFields = {
      clients_served: this.clientsServed,
      lines_relayed: room.linesRelayed,
      deliveries: room.deliveries,
      bytes_in: this.bytesIn,
      bytes_out: this.bytesOut,
    };
    for (const reason of CLOSE_REASONS) {
      if (this.closes[reason] > 0) {
        fields[`closes_${reason}`] = this.closes[reason];
      }
    }
    return fields;
  }
}
