/**
 * Flag values for the bench tools' command lines, on top of
 * `lib/args.ts`: durations (`500ms`, `10s`, `2m`), and negative numbers
 * taken as values, so that `--rate -5` is told its range instead of
 * being mistaken for an option.
 *
 * @module
 */

import { parseInteger, UsageError } from "../lib/args.ts";

/** Bounds for {@linkcode parseDuration}, in milliseconds. */
export interface DurationBounds {
  /** @default {0} */
  minMs?: number;
  /** @default {Infinity} */
  maxMs?: number;
}

/**
 * Parses a duration: a number of seconds, or with a unit `ms`, `s`, `m`;
 * gives milliseconds. Out of `bounds` (a negative one always is), the
 * message names the flag and the range.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./flag_values.ts";
 * console.log(parseDuration("--duration", "1.5s"), parseDuration("--drain", "250ms")); // 1500 250
 * ```
 */
export function parseDuration(
  flag: string,
  value: string,
  bounds: DurationBounds = {},
): number {
  const { minMs = 0, maxMs = Infinity } = bounds;
  const range = maxMs === Infinity
    ? `${minMs} ms or more`
    : `${minMs} ms to ${maxMs} ms`;
  const match = /^(-?\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!match) {
    throw new UsageError(
      `${flag}: expected a duration like 10, 10s, 500ms or 2m, got "${value}"`,
    );
  }
  const scale = { ms: 1, s: 1000, m: 60_000 }[match[2] ?? "s"] ?? 1000;
  const ms = Math.round(Number(match[1]) * scale);
  if (ms < minMs || ms > maxMs) {
    throw new UsageError(`${flag}: ${value} is out of range (${range})`);
  }
  return ms;
}

/**
 * Parses a whole number within bounds like `lib/args.ts`'s
 * `parseInteger` (`64k` and `_` allowed), except that a negative number
 * is out of range, with the range named, rather than "not a number".
 *
 * @example
 * ```ts
 * import { parseCount } from "./flag_values.ts";
 * console.log(parseCount("--clients", "10k", { min: 1 })); // 10240
 * try {
 *   parseCount("--clients", "-5", { min: 1, max: 100 });
 * } catch (error) {
 *   console.log((error as Error).message); // "--clients: -5 is out of range (1 to 100)"
 * }
 * ```
 */
export function parseCount(
  flag: string,
  value: string,
  bounds: { min?: number; max?: number } = {},
): number {
  if (/^\s*-\d/.test(value)) {
    const { min = 0, max = Number.MAX_SAFE_INTEGER } = bounds;
    throw new UsageError(
      `${flag}: ${value} is out of range (${min} to ${max})`,
    );
  }
  return parseInteger(flag, value, bounds);
}

/**
 * Joins `--flag -5` into `--flag=-5` for the flags that take a value, so
 * that `parseArgs` reads the negative number as the value (it would take
 * it for an option and stop at "argument is ambiguous") and the flag's own
 * parser can say what range it accepts.
 *
 * @example
 * ```ts
 * import { negativeValues } from "./flag_values.ts";
 * const options = { rate: { type: "string" }, json: { type: "boolean" } } as const;
 * console.log(negativeValues(["--rate", "-5", "--json"], options)); // ["--rate=-5", "--json"]
 * ```
 */
export function negativeValues(
  args: readonly string[],
  options: Readonly<Record<string, { type: "string" | "boolean" }>>,
): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    const name = arg.startsWith("--") ? arg.slice(2) : undefined;
    const next = args[i + 1];
    if (
      name !== undefined && options[name]?.type === "string" &&
      next !== undefined && /^-\.?\d/.test(next)
    ) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}
