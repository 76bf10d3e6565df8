/**
 * Saying how a process ended, in words a user reads once.
 *
 * @module
 */

/** Signal names by number (Linux x86-64), for exit codes 128 + N. */
const SIGNALS: Record<number, string> = {
  1: "SIGHUP",
  2: "SIGINT",
  3: "SIGQUIT",
  4: "SIGILL",
  5: "SIGTRAP",
  6: "SIGABRT",
  7: "SIGBUS",
  8: "SIGFPE",
  9: "SIGKILL",
  10: "SIGUSR1",
  11: "SIGSEGV",
  12: "SIGUSR2",
  13: "SIGPIPE",
  14: "SIGALRM",
  15: "SIGTERM",
};

/**
 * Describes an exit status in a few words. A shell (`sh -c`) reports a
 * child killed by signal N as exit code 128 + N; that is told as the
 * signal it is, e.g. "killed by SIGPIPE (signal 13, exit code 141)".
 *
 * @example
 * ```ts
 * import { describeStatus } from "./exit_status.ts";
 * console.log(describeStatus({ success: false, code: 1, signal: null })); // "exit code 1"
 * console.log(describeStatus({ success: false, code: 141, signal: null }));
 * // "killed by SIGPIPE (signal 13, exit code 141)"
 * ```
 */
export function describeStatus(status: Deno.CommandStatus): string {
  if (status.signal) return `killed by ${status.signal}`;
  const signal = status.code - 128;
  if (signal > 0 && signal < 64) {
    const name = SIGNALS[signal];
    return `killed by ${name ?? `signal ${signal}`} (${
      name ? `signal ${signal}, ` : ""
    }exit code ${status.code})`;
  }
  return `exit code ${status.code}`;
}
