/**
 * Helpers for the bench tools' tests.
 *
 * @module
 */

import { UsageError } from "../lib/args.ts";

/**
 * The one-line message `parse(args)` fails with; throws if it does not
 * fail with a {@linkcode UsageError}.
 *
 * @example
 * ```ts
 * import { UsageError } from "../lib/args.ts";
 * import { usageError } from "./_testing.ts";
 * const parse = (args: string[]) => {
 *   throw new UsageError(`bad ${args[0]}`);
 * };
 * console.log(usageError(parse, ["--x"])); // "bad --x"
 * ```
 */
export function usageError(
  parse: (args: string[]) => unknown,
  args: string[],
): string {
  try {
    parse(args);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error(`no error for ${args.join(" ")}`);
}
