/**
 * Whether a port is listening, read from the kernel's socket tables rather
 * than by connecting: a probe connection leaves a trace in some servers
 * (one that never forgets a client, one that dies when a client leaves at
 * once), and then the harness, not the server, decided the verdict.
 *
 * @module
 */

/** TCP socket state `LISTEN` in `/proc/net/tcp`. */
const LISTEN = "0A";

/**
 * Whether the `/proc/net/tcp`-format `table` has a socket listening on
 * `port` (any address).
 *
 * @example
 * ```ts
 * import { listensIn } from "./listening.ts";
 * const table = "  sl  local_address rem_address   st\n" +
 *   "   0: 0100007F:1E07 00000000:0000 0A 00000000:00000000\n";
 * console.log(listensIn(table, 7687)); // true
 * ```
 */
export function listensIn(table: string, port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  for (const line of table.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    // fields[1] is the local "ADDR:PORT", fields[3] the state.
    if (fields[3] === LISTEN && fields[1]?.endsWith(hex)) return true;
  }
  return false;
}

/**
 * The inodes of the sockets listening on `port` in a `/proc/net/tcp`
 * table (field 10), to tell whose they are.
 *
 * @example
 * ```ts
 * import { listeningInodes } from "./listening.ts";
 * const table = "  sl  local_address rem_address   st tx rx tr tm retr uid timeout inode\n" +
 *   "   0: 0100007F:1E07 00000000:0000 0A 0:0 00:0 0 0 0 4242 0 0 10\n";
 * console.log([...listeningInodes(table, 7687)]); // ["4242"]
 * ```
 */
export function listeningInodes(table: string, port: number): Set<string> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  const inodes = new Set<string>();
  for (const line of table.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[3] === LISTEN && fields[1]?.endsWith(hex) && fields[9]) {
      inodes.add(fields[9]);
    }
  }
  return inodes;
}

/**
 * Whether one of the processes `pids` holds a socket listening on TCP
 * `port`: the server we started, not some other process on that port,
 * is the one listening. Reads `/proc/net/tcp{,6}` and `/proc/<pid>/fd`.
 *
 * @example
 * ```ts
 * import { isListeningBy } from "./listening.ts";
 * const listener = Deno.listen({ port: 0 });
 * console.log(isListeningBy((listener.addr as Deno.NetAddr).port, [Deno.pid])); // true
 * listener.close();
 * ```
 */
export function isListeningBy(port: number, pids: readonly number[]): boolean {
  const inodes = new Set<string>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    try {
      for (const inode of listeningInodes(Deno.readTextFileSync(file), port)) {
        inodes.add(inode);
      }
    } catch {
      // No IPv6 table, or no procfs.
    }
  }
  if (inodes.size === 0) return false;
  for (const pid of pids) {
    let entries;
    try {
      entries = [...Deno.readDirSync(`/proc/${pid}/fd`)];
    } catch {
      continue; // Gone, or not ours to read.
    }
    for (const entry of entries) {
      try {
        const link = Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`);
        const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
        if (inode !== undefined && inodes.has(inode)) return true;
      } catch {
        // Closed meanwhile.
      }
    }
  }
  return false;
}

/**
 * Whether some socket on this machine listens on TCP `port`, from
 * `/proc/net/tcp` and `/proc/net/tcp6`; leaves no trace in the server.
 *
 * @example
 * ```ts
 * import { isListening } from "./listening.ts";
 * const listener = Deno.listen({ port: 0 });
 * console.log(isListening((listener.addr as Deno.NetAddr).port)); // true
 * listener.close();
 * ```
 */
export function isListening(port: number): boolean {
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let table: string;
    try {
      table = Deno.readTextFileSync(file);
    } catch {
      continue;
    }
    if (listensIn(table, port)) return true;
  }
  return false;
}
