/**
 * Small helpers of the load generator's phases: waiting until a time or
 * an event, writing a whole buffer, naming an error. Internal.
 *
 * @module
 */

import { sleep, within } from "../_async.ts";

/**
 * Sleeps until `atMs` (`performance.now()`), or until `cut` settles.
 *
 * @example
 * ```ts
 * import { sleepUntil } from "./_util.ts";
 * await sleepUntil(performance.now() + 5);
 * ```
 */
export async function sleepUntil(
  atMs: number,
  cut?: Promise<unknown>,
): Promise<void> {
  const left = atMs - performance.now();
  if (left <= 0) return;
  if (!cut) return await sleep(left);
  await within(left, cut.then(() => {}, () => {}), undefined);
}

/**
 * Waits for `promise` at most `ms`; true if it settled (either way) in
 * time.
 *
 * @example
 * ```ts
 * import { settlesWithin } from "./_util.ts";
 * console.log(await settlesWithin(Promise.reject(new Error("no")), 10)); // true
 * ```
 */
export function settlesWithin(
  promise: Promise<unknown>,
  ms: number,
): Promise<boolean> {
  return within(ms, promise.then(() => true, () => true), false);
}

/**
 * Writes all of `bytes` to `conn`, however many writes it takes.
 *
 * @example
 * ```ts ignore
 * import { writeAll } from "./_util.ts";
 * await writeAll(conn, new TextEncoder().encode("hello\n"));
 * ```
 */
export async function writeAll(
  conn: Pick<Deno.Conn, "write">,
  bytes: Uint8Array,
): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    offset += await conn.write(offset === 0 ? bytes : bytes.subarray(offset));
  }
}

/**
 * An error's name for a report: its class (`ConnectionRefused`), or its
 * message when it is a plain `Error`.
 *
 * @example
 * ```ts
 * import { errorName } from "./_util.ts";
 * console.log(errorName(new Deno.errors.ConnectionRefused("x")), errorName(new Error("boom"))); // "ConnectionRefused" "boom"
 * ```
 */
export function errorName(error: unknown): string {
  if (error instanceof Error) {
    return error.name === "Error" ? error.message : error.name;
  }
  return String(error);
}

/**
 * Rounds to `digits` decimals, for stable reports.
 *
 * @example
 * ```ts
 * import { round } from "./_util.ts";
 * console.log(round(1.23456, 3)); // 1.235
 * ```
 */
export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
