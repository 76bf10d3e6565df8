/**
 * How the bench tools print numbers: counts with separators, bytes in
 * binary units, milliseconds with sensible precision. Shared by the
 * reports of `load`, `compare` and `attack`.
 *
 * @module
 */

/**
 * Formats a number rounded to an integer, with thousands separators.
 *
 * @example
 * ```ts
 * import { formatCount } from "./units.ts";
 * console.log(formatCount(1234567.4)); // "1,234,567"
 * ```
 */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/**
 * Formats a byte count with a binary unit: `512 B`, `5.6 KiB`, `40.1 MiB`.
 *
 * @example
 * ```ts
 * import { formatBytes } from "./units.ts";
 * console.log(formatBytes(5734)); // "5.6 KiB"
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0
    ? `${Math.round(value)} B`
    : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

/**
 * Formats milliseconds: three significant digits or so, never fewer than
 * the whole milliseconds.
 *
 * @example
 * ```ts
 * import { formatMs } from "./units.ts";
 * console.log(formatMs(123.4), formatMs(12.34), formatMs(1.234), formatMs(0.1234));
 * // "123" "12.3" "1.23" "0.123"
 * ```
 */
export function formatMs(ms: number): string {
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}
