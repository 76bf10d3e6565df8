/**
 * Whether a target given with `--target` accepts connections: checked
 * once before a run, and again after a failed case (a server that stopped
 * accepting probably crashed). A spawned server is never probed this way:
 * its readiness is read from `/proc/net/tcp`.
 *
 * @module
 */

import type { Target } from "../lib/args.ts";
import { describeError } from "./describe_error.ts";

/**
 * Connects to `target` once and closes at once; resolves with why it
 * failed (one line, without the error's class), or `undefined`.
 *
 * @example
 * ```ts
 * import { probeTarget } from "./reachability.ts";
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const { port } = listener.addr as Deno.NetAddr;
 * const accepted = listener.accept().then((conn) => conn.close());
 * console.log(await probeTarget({ hostname: "127.0.0.1", port }, 1000)); // undefined
 * await accepted;
 * listener.close();
 * ```
 */
export async function probeTarget(
  target: Target,
  timeoutMs: number,
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
    conn.close();
    return undefined;
  } catch (error) {
    attempt.then((conn) => conn.close(), () => {});
    return describeError(error).replace(/^\w+: /, "");
  } finally {
    clearTimeout(timer);
  }
}
