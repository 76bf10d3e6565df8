/**
 * Errors in one line, for findings, traces and the CLI.
 *
 * @module
 */

import { describeStatus } from "../lib/exit_status.ts";

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

/**
 * A recorded crash's exit status in words (see `lib/exit_status.ts`): a
 * signal by name, and the shell's 128 + N codes as the signal they are.
 *
 * @example
 * ```ts
 * import { describeCrashStatus } from "./describe_error.ts";
 * console.log(describeCrashStatus({ code: 141, signal: null }));
 * // "killed by SIGPIPE (signal 13, exit code 141)"
 * ```
 */
export function describeCrashStatus(
  crash: { code: number | null; signal: string | null },
): string {
  return describeStatus({
    success: crash.code === 0,
    code: crash.code ?? 0,
    signal: crash.signal as Deno.Signal | null,
  });
}
