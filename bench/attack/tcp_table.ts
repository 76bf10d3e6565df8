/**
 * The kernel's table of TCP sockets (`/proc/net/tcp`, `/proc/net/tcp6`):
 * how the attack harness tells, for any server on this machine, which of
 * its connections the server has closed, without reading from them.
 *
 * A client that never reads cannot see the server's FIN (it waits behind
 * the unread data), but on loopback both ends of a connection are in this
 * table: once the server closes its end, that end leaves `ESTABLISHED`
 * (or the table, after a reset), whatever the client has read.
 *
 * @module
 */

/** Socket states as the kernel numbers them (`include/net/tcp_states.h`). */
const STATES: Record<number, string> = {
  1: "ESTABLISHED",
  2: "SYN_SENT",
  3: "SYN_RECV",
  4: "FIN_WAIT1",
  5: "FIN_WAIT2",
  6: "TIME_WAIT",
  7: "CLOSE",
  8: "CLOSE_WAIT",
  9: "LAST_ACK",
  10: "LISTEN",
  11: "CLOSING",
  12: "NEW_SYN_RECV",
};

/** One socket of the table. */
export interface TcpSocket {
  /** Local port. */
  localPort: number;
  /** Remote port (0 for a listener). */
  remotePort: number;
  /** State name: `ESTABLISHED`, `FIN_WAIT1`, `CLOSE_WAIT`, … */
  state: string;
  /** Bytes in the send queue (written, not yet acknowledged). */
  txQueue: number;
  /** Bytes in the receive queue (arrived, not yet read). */
  rxQueue: number;
}

/**
 * Parses the text of `/proc/net/tcp` or `/proc/net/tcp6` (the header line
 * is skipped).
 *
 * @example
 * ```ts
 * import { parseTcpTable } from "./tcp_table.ts";
 * const text = "  sl  local_address rem_address   st tx_queue rx_queue\n" +
 *   "   0: 0100007F:1E07 0100007F:A000 01 00000010:00000002 00:00000000 0\n";
 * console.log(parseTcpTable(text));
 * // [{ localPort: 7687, remotePort: 40960, state: "ESTABLISHED", txQueue: 16, rxQueue: 2 }]
 * ```
 */
export function parseTcpTable(text: string): TcpSocket[] {
  const sockets: TcpSocket[] = [];
  for (const line of text.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 5) continue;
    const local = fields[1].split(":");
    const remote = fields[2].split(":");
    const queues = fields[4].split(":");
    sockets.push({
      localPort: parseInt(local[local.length - 1], 16),
      remotePort: parseInt(remote[remote.length - 1], 16),
      state: STATES[parseInt(fields[3], 16)] ?? fields[3],
      txQueue: parseInt(queues[0], 16),
      rxQueue: parseInt(queues[1], 16),
    });
  }
  return sockets;
}

/**
 * Reads every TCP socket of this network namespace (IPv4 and IPv6); empty
 * where `/proc` is not available.
 *
 * @example
 * ```ts
 * import { readTcpTable } from "./tcp_table.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = (listener.addr as Deno.NetAddr).port;
 * const table = await readTcpTable();
 * console.log(table.some((s) => s.localPort === port && s.state === "LISTEN")); // true
 * listener.close();
 * ```
 */
export async function readTcpTable(): Promise<TcpSocket[]> {
  const sockets: TcpSocket[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    try {
      sockets.push(...parseTcpTable(await Deno.readTextFile(file)));
    } catch {
      // No such file (no IPv6, no procfs): nothing to add.
    }
  }
  return sockets;
}

/** Both ends of one loopback connection, as the table shows them. */
export interface ConnectionEnds {
  /** The server's end (local port = the server's), if still in the table. */
  server: TcpSocket | undefined;
  /** The client's end (local port = the client's), if still in the table. */
  client: TcpSocket | undefined;
}

/**
 * Finds both ends of the connections from `clientPorts` to `serverPort`.
 * A `TIME_WAIT` leftover of an earlier connection on the same ports is
 * ignored when a live socket is there too.
 *
 * @example
 * ```ts
 * import { connectionEnds, parseTcpTable } from "./tcp_table.ts";
 * const table = parseTcpTable("header\n" +
 *   "0: 0100007F:1E07 0100007F:A000 04 00100000:00000000 0\n" +
 *   "1: 0100007F:A000 0100007F:1E07 01 00000000:00200000 0\n");
 * const ends = connectionEnds(table, 7687, [40960]).get(40960);
 * console.log(ends?.server?.state, ends?.client?.rxQueue); // FIN_WAIT1 2097152
 * ```
 */
export function connectionEnds(
  table: readonly TcpSocket[],
  serverPort: number,
  clientPorts: Iterable<number>,
): Map<number, ConnectionEnds> {
  const ends = new Map<number, ConnectionEnds>();
  for (const port of clientPorts) {
    ends.set(port, { server: undefined, client: undefined });
  }
  const better = (old: TcpSocket | undefined, next: TcpSocket) =>
    old === undefined || old.state === "TIME_WAIT" ? next : old;
  for (const socket of table) {
    if (socket.localPort === serverPort) {
      const entry = ends.get(socket.remotePort);
      if (entry) entry.server = better(entry.server, socket);
    } else if (socket.remotePort === serverPort) {
      const entry = ends.get(socket.localPort);
      if (entry) entry.client = better(entry.client, socket);
    }
  }
  return ends;
}

/**
 * Whether the server has closed (or reset) this connection: its end is no
 * longer `ESTABLISHED` or gone, or the client's end got a FIN or a reset.
 *
 * @example
 * ```ts
 * import { closedByServer } from "./tcp_table.ts";
 * const open = { localPort: 1, remotePort: 2, state: "ESTABLISHED", txQueue: 0, rxQueue: 0 };
 * console.log(closedByServer({ server: open, client: open })); // false
 * console.log(closedByServer({ server: undefined, client: undefined })); // true
 * ```
 */
export function closedByServer(ends: ConnectionEnds): boolean {
  return ends.server?.state !== "ESTABLISHED" ||
    ends.client?.state !== "ESTABLISHED";
}
