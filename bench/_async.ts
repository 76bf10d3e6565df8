/**
 * Waiting, for the bench tools: a sleep, and a promise raced against a
 * timeout. Internal to `bench/`.
 *
 * @module
 */

/**
 * Resolves after `ms` (at once for `ms <= 0`).
 *
 * @example
 * ```ts
 * import { sleep } from "./_async.ts";
 * await sleep(1);
 * ```
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/**
 * Resolves with `promise`, or with `fallback` if it has not settled after
 * `ms`; the timer is cleared either way.
 *
 * @example
 * ```ts
 * import { within } from "./_async.ts";
 * console.log(await within(10, new Promise(() => {}), "late")); // "late"
 * ```
 */
export async function within<T>(
  ms: number,
  promise: Promise<T>,
  fallback: T,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<T>((resolve) =>
        timer = setTimeout(resolve, Math.max(0, ms), fallback)
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
