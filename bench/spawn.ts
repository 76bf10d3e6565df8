/**
 * How the bench tools start a server under test: always through
 * `lib/server_process.ts` (a `sh -c` command template on free ports, in a
 * process group of its own), with the two things measuring needs on top.
 *
 * @module
 */

import { describeStatus } from "../lib/exit_status.ts";

/**
 * The command template with the server's stdout sent to `/dev/null`.
 * Some servers print every line they relay (the Nim book design does);
 * reading that would cost the tool that started them CPU, on the machine
 * being measured. Its stderr is still kept (`outputTail()`) for error
 * messages.
 *
 * @example
 * ```ts
 * import { discardStdout } from "./spawn.ts";
 * console.log(discardStdout("X=1 ncat -l --broker 127.0.0.1 {port}"));
 * // "exec >/dev/null; X=1 ncat -l --broker 127.0.0.1 {port}"
 * ```
 */
export function discardStdout(command: string): string {
  return `exec >/dev/null; ${command}`;
}

/**
 * The signal that ended a process, if one did: as Deno reports it, or as
 * a shell does (exit code 128 + N for a child killed by signal N), which
 * is how a server run with `sh -c` is seen to die.
 *
 * @example
 * ```ts
 * import { signalOf } from "./spawn.ts";
 * console.log(signalOf({ success: false, code: 143, signal: null })); // "SIGTERM"
 * console.log(signalOf({ success: false, code: 1, signal: null })); // null
 * ```
 */
export function signalOf(status: Deno.CommandStatus): string | null {
  if (status.signal) return status.signal;
  return /^killed by (SIG[A-Z0-9]+)/.exec(describeStatus(status))?.[1] ?? null;
}
