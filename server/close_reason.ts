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
 * - `protocol-error`: the client broke its transport's rules (a WebSocket
 *   message holding LF, a text frame that is not UTF-8, an unmasked frame).
 * - `slow-consumer`: its pending output passed a bound: `maxPendingBytes`,
 *   `writeTimeoutMs` or `maxTotalPendingBytes` (see {@linkcode OUTPUT_LIMITS}).
 * - `server-full`: it connected while `maxClients` were connected.
 * - `ip-limit`: it connected while `maxClientsPerIp` from its address were.
 * - `idle-timeout`: it sent nothing for `idleTimeoutMs`.
 * - `line-timeout`: it left a line unfinished for `lineTimeoutMs`.
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
  "protocol-error",
  "slow-consumer",
  "server-full",
  "ip-limit",
  "idle-timeout",
  "line-timeout",
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
 * The bounds on a client's pending output, each of which closes it as
 * `slow-consumer`; the log's `limit=` field says which one fired.
 *
 * - `max-pending-bytes`: its own output would cost more than the bound.
 * - `write-timeout`: its output did not shrink for the write timeout.
 * - `max-total-pending-bytes`: all clients together held more than the
 *   total bound, and it was among those holding the most.
 *
 * @example
 * ```ts
 * import { OUTPUT_LIMITS } from "./close_reason.ts";
 * console.log(OUTPUT_LIMITS.includes("write-timeout")); // true
 * ```
 */
export const OUTPUT_LIMITS = [
  "max-pending-bytes",
  "write-timeout",
  "max-total-pending-bytes",
] as const;

/**
 * One of {@linkcode OUTPUT_LIMITS}.
 *
 * @example
 * ```ts
 * import type { OutputLimit } from "./close_reason.ts";
 * const limit: OutputLimit = "write-timeout";
 * console.log(limit);
 * ```
 */
export type OutputLimit = typeof OUTPUT_LIMITS[number];

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
  return isResetError(error) ? "reset" : "error";
}

/** The errno codes `node:net` gives for a connection the peer broke. */
const RESET_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "ENOTCONN",
]);

/**
 * Whether `error` says the peer reset or broke the connection (RST, EPIPE,
 * an abort), as a `Deno.errors` class or a `node:net` errno code: the one
 * place that tells a reset from another error.
 *
 * @example
 * ```ts
 * import { isResetError } from "./close_reason.ts";
 * console.log(isResetError(Object.assign(new Error("x"), { code: "EPIPE" }))); // true
 * ```
 */
export function isResetError(error: unknown): boolean {
  if (
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.NotConnected
  ) {
    return true;
  }
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && RESET_CODES.has(code);
}
