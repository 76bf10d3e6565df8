/**
 * Whether a target given with `--target` still accepts connections, after
 * a failed case (a server that stopped accepting probably crashed). It is
 * first checked without connecting: a target on this machine is reachable
 * when its port is listening in `/proc/net/tcp`. Otherwise a connection is
 * made and kept open a moment before it is closed: a probe that connects
 * and closes at once is enough to kill some servers (`ncat -l --chat`
 * quits when `getpeername` fails on a client already gone), and the cases
 * after it would get the blame. Before a run, the preflight's two clients
 * (`preflight.ts`) are the reachability check; a spawned server's
 * readiness is read from `/proc` too.
 *
 * @module
 */

import type { Target } from "../lib/args.ts";
import { isListening } from "../lib/listening.ts";
import { describeError } from "./describe_error.ts";

/** How long a probe connection stays open before it is closed. */
const HOLD_MS = 250;

/**
 * Whether `hostname` is this machine (so `/proc/net/tcp` tells whether it
 * listens).
 *
 * @example
 * ```ts
 * import { isLoopback } from "./reachability.ts";
 * console.log(isLoopback("127.0.0.1"), isLoopback("localhost"), isLoopback("10.0.0.1")); // true true false
 * ```
 */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" ||
    hostname === "[::1]" || /^127\./.test(hostname);
}

/**
 * Connects to `target`, keeps the connection open `holdMs`, then closes
 * it; resolves with why it failed (one line, without the error's class),
 * or `undefined`.
 *
 * @example
 * ```ts
 * import { probeTarget } from "./reachability.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const { port } = listener.addr as Deno.NetAddr;
 * const accepted = listener.accept().then((conn) => conn.close());
 * console.log(await probeTarget({ hostname: "127.0.0.1", port }, 1000, 0)); // undefined
 * await accepted;
 * listener.close();
 * ```
 */
export async function probeTarget(
  target: Target,
  timeoutMs: number,
  holdMs = HOLD_MS,
): Promise<string | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const attempt = Deno.connect({ ...target, transport: "tcp" });
  try {
    const conn = await Promise.race([
      attempt,
      new Promise<never>((_, reject) =>
        timer = setTimeout(() => reject(new Error("timed out")), timeoutMs)
      ),
    ]);
    if (holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs));
    conn.close();
    return undefined;
  } catch (error) {
    attempt.then((conn) => conn.close(), () => {});
    return describeError(error).replace(/^\w+: /, "");
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whether `target` still accepts connections, disturbing it as little as
 * possible: a port on this machine listening in `/proc/net/tcp` is
 * reachable without a connection; otherwise {@linkcode probeTarget}
 * decides. Resolves with why not, or `undefined`.
 *
 * @example
 * ```ts
 * import { checkReachable } from "./reachability.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const { port } = listener.addr as Deno.NetAddr;
 * console.log(await checkReachable({ hostname: "127.0.0.1", port }, 1000)); // undefined
 * listener.close();
 * ```
 */
export async function checkReachable(
  target: Target,
  timeoutMs: number,
): Promise<string | undefined> {
  if (isLoopback(target.hostname) && isListening(target.port)) return undefined;
  return await probeTarget(target, timeoutMs);
}
