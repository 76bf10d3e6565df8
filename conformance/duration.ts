/**
 * Durations as people write and read them: `--deadline 6m`, "at most
 * 6 min", "reached its deadline of 20 s".
 *
 * @module
 */

import { UsageError } from "../lib/args.ts";

/**
 * Milliseconds as people read them: `850 ms`, `12.5 s`, `6 min`,
 * `2 min 30 s`.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./duration.ts";
 * console.log(formatDuration(850), formatDuration(12_500), formatDuration(360_000), formatDuration(150_000));
 * // "850 ms" "12.5 s" "6 min" "2 min 30 s"
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  if (seconds === 60) return `${minutes + 1} min`;
  return seconds === 0 ? `${minutes} min` : `${minutes} min ${seconds} s`;
}

/**
 * Parses a flag's duration: a number with `ms`, `s`, `m` or `h` (a bare
 * number is seconds), into milliseconds. Throws a `UsageError` naming the
 * flag.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./duration.ts";
 * console.log(parseDuration("--deadline", "6m"), parseDuration("--deadline", "90")); // 360000 90000
 * ```
 */
export function parseDuration(flag: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?$/i.exec(value.trim());
  if (!match) {
    throw new UsageError(
      `${flag}: expected a duration such as 90s, 6m or 1h, got "${value}"`,
    );
  }
  const unit = (match[2] ?? "s").toLowerCase();
  const factor = unit === "ms"
    ? 1
    : unit === "s"
    ? 1000
    : unit === "h"
    ? 3_600_000
    : 60_000;
  const ms = Math.round(Number(match[1]) * factor);
  if (ms < 1000) {
    throw new UsageError(`${flag}: ${value} is too short (at least 1 s)`);
  }
  return ms;
}
