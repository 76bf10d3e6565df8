/**
 * Free TCP ports on this machine, for servers started on demand.
 *
 * @module
 */

/**
 * A TCP port that was free a moment ago on `hostname` (found by listening
 * on port 0 and closing). Another process could take it in between; the
 * caller's start-up check catches that.
 *
 * @example
 * ```ts
 * import { freePort } from "./free_port.ts";
 * console.log(freePort() > 0);
 * ```
 */
export function freePort(hostname = "127.0.0.1"): number {
  const listener = Deno.listen({ hostname, port: 0, transport: "tcp" });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * The first of `count` consecutive ports that were all free a moment ago,
 * for a server that listens on several (the nodes of one room). Throws
 * after many tries.
 *
 * Blocks are sought below the kernel's ephemeral range first: ports in it
 * are the local ports of outgoing connections, and on a busy machine
 * (tens of thousands of them in TIME_WAIT after a test run) the port after
 * a free one is often taken.
 *
 * @example
 * ```ts
 * import { freePortBlock } from "./free_port.ts";
 * const first = freePortBlock(3);
 * console.log(first > 0 && first + 2 <= 65535);
 * ```
 */
export function freePortBlock(count: number, hostname = "127.0.0.1"): number {
  if (count <= 1) return freePort(hostname);
  const [low] = ephemeralRange();
  const below = { from: 10_000, to: low - count };
  for (let attempt = 0; attempt < 200; attempt++) {
    const first = attempt < 100 && below.to > below.from
      ? below.from + Math.floor(Math.random() * (below.to - below.from))
      : freePort(hostname);
    if (first + count - 1 > 65535) continue;
    if (holdBlock(first, count, hostname)) return first;
  }
  throw new Error(`no ${count} consecutive free ports on ${hostname}`);
}

/** Whether ports `first`…`first + count - 1` can all be listened on. */
function holdBlock(first: number, count: number, hostname: string): boolean {
  const held: Deno.Listener[] = [];
  try {
    for (let port = first; port < first + count; port++) {
      held.push(Deno.listen({ hostname, port, transport: "tcp" }));
    }
    return true;
  } catch {
    return false;
  } finally {
    for (const listener of held) listener.close();
  }
}

/** The kernel's range of ports for outgoing connections. */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = Deno.readTextFileSync(
      "/proc/sys/net/ipv4/ip_local_port_range",
    ).trim().split(/\s+/).map(Number);
    if (low > 0 && high >= low) return [low, high];
  } catch {
    // Not Linux, or no /proc: assume the IANA range.
  }
  return [49152, 65535];
}
