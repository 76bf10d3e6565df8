/**
 * Small helpers shared by the case files: filler bytes, paced writes,
 * sizes for messages, percentiles, bounded waits.
 *
 * @module
 */

import type { CaseContext } from "../case.ts";
import type { PeerWriter } from "../line_writer.ts";
import type { Peer } from "../peer.ts";
import type { RawPeer } from "../raw_peer.ts";

/**
 * Printable ASCII of `length` bytes that differs from line to line
 * (`seed`), so reordered or mixed-up lines show.
 *
 * @example
 * ```ts
 * import { filler } from "./_helpers.ts";
 * console.log(filler(4, 1).every((b) => b >= 0x21 && b <= 0x7e)); // true
 * ```
 */
export function filler(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = 0x21 + ((x >>> 0) % 94);
  }
  return out;
}

/**
 * Writes `pieces` from `writer` as separate segments, with a tick through
 * the server (`tickFrom` → `tickTo`) between them so the server reads each
 * piece on its own.
 *
 * @example
 * ```ts ignore
 * await writePaced(ctx, a, ["hel", "lo\n"], a, b);
 * ```
 */
export async function writePaced(
  ctx: CaseContext,
  writer: PeerWriter,
  pieces: readonly (string | Uint8Array)[],
  tickFrom: PeerWriter,
  tickTo: Peer,
): Promise<void> {
  for (const [i, piece] of pieces.entries()) {
    await writer.write(piece);
    if (i < pieces.length - 1) await ctx.tick(tickFrom, tickTo);
  }
}

/**
 * Splits `data` into pieces of `size` bytes (the last may be shorter).
 *
 * @example
 * ```ts
 * import { chunk } from "./_helpers.ts";
 * console.log(chunk(new Uint8Array(5), 2).map((p) => p.length)); // [ 2, 2, 1 ]
 * ```
 */
export function chunk(data: Uint8Array, size: number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) {
    pieces.push(data.subarray(i, i + size));
  }
  return pieces;
}

/**
 * A byte count for messages: whole MiB or KiB when it is one, else bytes.
 *
 * @example
 * ```ts
 * import { size } from "./_helpers.ts";
 * console.log(size(65536), size(65537)); // "64 KiB" "65537 bytes"
 * ```
 */
export function size(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) {
    return `${n / 1024 / 1024} MiB`;
  }
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/**
 * Bytes as MiB with one decimal.
 *
 * @example
 * ```ts
 * import { mib } from "./_helpers.ts";
 * console.log(mib(3 * 1024 * 1024 / 2)); // "1.5 MiB"
 * ```
 */
export function mib(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * The `p`-th percentile (0–100) of `values` by nearest rank; `NaN` when
 * empty. Does not modify `values`.
 *
 * @example
 * ```ts
 * import { percentile } from "./_helpers.ts";
 * console.log(percentile([5, 1, 3, 2, 4], 50)); // 3
 * ```
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/**
 * `promise`, or a rejection with `Error(message)` after `ms`.
 *
 * @example
 * ```ts
 * import { withTimeout } from "./_helpers.ts";
 * const late = new Promise((resolve) => setTimeout(resolve, 100));
 * await withTimeout(late, 10, "too slow").catch((e) => console.log(e.message)); // "too slow"
 * await late;
 * ```
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  message: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      timer = setTimeout(() => reject(new Error(message)), ms)
    ),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Closes the case's clients and, with `--spawn`, gives the server a moment
 * to fall over: a server still relaying a backlog to clients that leave
 * may crash on it, and that crash belongs to this case, not the next.
 *
 * @example
 * ```ts ignore
 * await leaveAndWatch(ctx, [a, b, flooder]);
 * ```
 */
export async function leaveAndWatch(
  ctx: CaseContext,
  peers: readonly (Peer | RawPeer)[],
): Promise<void> {
  for (const peer of peers) peer.close();
  if (ctx.server === undefined) return;
  const status = await ctx.server.waitExit(ctx.timeout(200));
  if (status === null) ctx.note("the server is still up after they all left");
}

/**
 * After a raw read saw the server end `peer`'s connection, one read through
 * the peer records it (trace, and `ended`, which tells the runner to wait
 * for a server that may be dying).
 *
 * @example
 * ```ts ignore
 * if ((await peer.client.conn.read(buffer)) === null) await noteEnd(peer);
 * ```
 */
export async function noteEnd(peer: Peer): Promise<void> {
  await peer.read(100);
}
