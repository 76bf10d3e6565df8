/**
 * Helpers for the load generator's tests: connected TCP pairs on
 * loopback, and a waiter for a condition.
 *
 * @module
 */

/**
 * A connected pair of TCP connections on loopback: `near` is the one the
 * code under test holds, `far` plays the server.
 *
 * @example
 * ```ts
 * import { tcpPairs } from "./_testing.ts";
 * const { pairs, close } = await tcpPairs(1);
 * await pairs[0].far.write(new Uint8Array([0x0a]));
 * close();
 * ```
 */
export async function tcpPairs(
  count: number,
): Promise<{
  pairs: { near: Deno.TcpConn; far: Deno.TcpConn }[];
  close: () => void;
}> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const pairs: { near: Deno.TcpConn; far: Deno.TcpConn }[] = [];
  for (let i = 0; i < count; i++) {
    const accepted = listener.accept();
    const near = await Deno.connect({ hostname: "127.0.0.1", port });
    pairs.push({ near, far: await accepted });
  }
  listener.close();
  return {
    pairs,
    close: () => {
      for (const { near, far } of pairs) {
        for (const conn of [near, far]) {
          try {
            conn.close();
          } catch {
            // Closed already.
          }
        }
      }
    },
  };
}

/**
 * Waits until `condition()` holds (polling every 5 ms), at most `ms`.
 *
 * @example
 * ```ts
 * import { until } from "./_testing.ts";
 * console.log(await until(() => true)); // true
 * ```
 */
export async function until(
  condition: () => boolean,
  ms = 5000,
): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}
