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
 * @example
 * ```ts
 * import { freePortBlock } from "./free_port.ts";
 * const first = freePortBlock(3);
 * console.log(first > 0 && first + 2 <= 65535);
 * ```
 */
export function freePortBlock(count: number, hostname = "127.0.0.1"): number {
  if (count <= 1) return freePort(hostname);
  for (let attempt = 0; attempt < 100; attempt++) {
    const first = freePort(hostname);
    if (first + count - 1 > 65535) continue;
    const held: Deno.Listener[] = [];
    try {
      for (let port = first; port < first + count; port++) {
        held.push(Deno.listen({ hostname, port, transport: "tcp" }));
      }
      return first;
    } catch {
      // One of them is taken: try another block.
    } finally {
      for (const listener of held) listener.close();
    }
  }
  throw new Error(`no ${count} consecutive free ports on ${hostname}`);
}
