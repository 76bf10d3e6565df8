/**
 * Errors in one line, for findings, traces and the CLI.
 *
 * @module
 */

/**
 * A one-line description of an error: its class and message.
 *
 * @example
 * ```ts
 * import { describeError } from "./describe_error.ts";
 * console.log(describeError(new RangeError("bad"))); // "RangeError: bad"
 * ```
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    return `${error.name}: ${error.message}`.split("\n")[0];
  }
  return String(error).split("\n")[0];
}
