/**
 * How many connections wait in a local server's listen queue, accepted by
 * the kernel but not yet by the server: from the `LISTEN` socket's
 * `rx_queue` in `/proc/net/tcp` (or `tcp6`). A server that accepts slowly
 * shows there, which tells a slow accept apart from a lost line.
 *
 * @module
 */

import type { Target } from "../lib/args.ts";
import { isLoopback } from "./reachability.ts";

/**
 * The `rx_queue` of the socket listening on `port` in a `/proc/net/tcp`
 * table (for a listening socket, the connections not yet accepted), or
 * undefined when none listens there.
 *
 * @example
 * ```ts
 * import { listenQueueIn } from "./accept_queue.ts";
 * const table = "  sl  local_address rem_address   st tx_queue:rx_queue\n" +
 *   "   0: 0100007F:1E07 00000000:0000 0A 00000000:00000011 00:00000000\n";
 * console.log(listenQueueIn(table, 7687)); // 17
 * ```
 */
export function listenQueueIn(table: string, port: number): number | undefined {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  for (const line of table.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[3] !== "0A" || !fields[1]?.endsWith(hex)) continue;
    const rx = fields[4]?.split(":")[1];
    return rx === undefined ? undefined : parseInt(rx, 16);
  }
  return undefined;
}

/**
 * Connections waiting to be accepted by the server listening at `target`,
 * when it is on this machine; undefined when that cannot be read.
 *
 * @example
 * ```ts
 * import { acceptQueue } from "./accept_queue.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * console.log(acceptQueue({ hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port })); // 0
 * listener.close();
 * ```
 */
export function acceptQueue(target: Target): number | undefined {
  if (!isLoopback(target.hostname)) return undefined;
  let found: number | undefined;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    try {
      const queued = listenQueueIn(Deno.readTextFileSync(file), target.port);
      if (queued !== undefined) found = (found ?? 0) + queued;
    } catch {
      // No such table, or no procfs.
    }
  }
  return found;
}
