/**
 * Why a client's connection ended. Every close records one; they appear in
 * the log and in {@linkcode ServerStats.closes}.
 *
 * @module
 */

/**
 * The reasons a server closes a client, in the order the summary lists them.
 *
 * - `eof`: the client closed (or half-closed) its side.
 * - `reset`: the connection was reset or broke (RST, EPIPE).
 * - `line-too-long`: the client sent a line over `maxLineBytes`.
 * - `slow-consumer`: more than `maxPendingBytes` waited to be written to it.
 * - `server-full`: it connected while `maxClients` were connected.
 * - `shutdown`: the server was stopping.
 * - `error`: any other I/O error (logged with its message).
 *
 * @example
 * ```ts
 * import { CLOSE_REASONS } from "./close_reason.ts";
 * console.log(CLOSE_REASONS.join(", "));
 * ```
 */
export const CLOSE_REASONS = [
  "eof",
  "reset",
  "line-too-long",
  "slow-consumer",
  "server-full",
  "shutdown",
  "error",
] as const;

/**
 * One of {@linkcode CLOSE_REASONS}.
 *
 * @example
 * ```ts
 * import type { CloseReason } from "./close_reason.ts";
 * const reason: CloseReason = "slow-consumer";
 * console.log(reason);
 * ```
 */
export type CloseReason = typeof CLOSE_REASONS[number];

/**
 * Maps an error thrown by a socket read or write to a close reason.
 *
 * @example
 * ```ts
 * import { closeReasonOf } from "./close_reason.ts";
 * console.log(closeReasonOf(new Deno.errors.ConnectionReset("x"))); // "reset"
 * ```
 */
export function closeReasonOf(error: unknown): CloseReason {
  if (
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.NotConnected
  ) {
    return "reset";
  }
  // node:net errors carry errno codes instead.
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ECONNRESET" || code === "EPIPE" || code === "ECONNABORTED") {
    return "reset";
  }
  return "error";
}
