/**
 * The cluster bus's limits and their defaults, in a module of their own
 * so that the server's command line can show them without loading the
 * Redis client.
 *
 * @module
 */

/**
 * How old a cross-node line may be and still be delivered
 * (`--bus-max-delay-ms`): a batch not published within it is dropped by
 * its node, and one that arrives older than it is dropped by the node
 * receiving it. Either way it is counted, never delivered late.
 *
 * @example
 * ```ts
 * import { DEFAULT_BUS_MAX_DELAY_MS } from "./bus_limits.ts";
 * console.log(DEFAULT_BUS_MAX_DELAY_MS === 2000);
 * ```
 */
export const DEFAULT_BUS_MAX_DELAY_MS = 2000;

/**
 * How long a Redis connection may stay silent, a PING or PUBLISH
 * unanswered, before the node treats Redis as stalled
 * (`--bus-stall-timeout-ms`). Each connection PINGs every quarter of it,
 * so a stall is noticed within 1.25 times it.
 *
 * @example
 * ```ts
 * import { DEFAULT_BUS_STALL_TIMEOUT_MS } from "./bus_limits.ts";
 * console.log(DEFAULT_BUS_STALL_TIMEOUT_MS === 1000);
 * ```
 */
export const DEFAULT_BUS_STALL_TIMEOUT_MS = 1000;

/**
 * Most bytes a node queues for publishing while Redis is slow to answer
 * (`--bus-backlog-bytes`); when full, the sender holding the most of it
 * loses lines first.
 *
 * @example
 * ```ts
 * import { DEFAULT_BUS_BACKLOG_BYTES } from "./bus_limits.ts";
 * console.log(DEFAULT_BUS_BACKLOG_BYTES === 16 * 1024 * 1024);
 * ```
 */
export const DEFAULT_BUS_BACKLOG_BYTES = 16 * 1024 * 1024;

/**
 * The least `--bus-backlog-bytes` may be: room for a few large batches.
 *
 * @example
 * ```ts
 * import { MIN_BUS_BACKLOG_BYTES } from "./bus_limits.ts";
 * console.log(MIN_BUS_BACKLOG_BYTES === 64 * 1024);
 * ```
 */
export const MIN_BUS_BACKLOG_BYTES = 64 * 1024;
