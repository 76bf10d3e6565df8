/**
 * Defaults of the line-chat protocol's limits (PROTOCOL.md §4), shared by
 * the server, the client library and the tools.
 *
 * @module
 */

/**
 * The TCP port a line-chat server listens on unless told otherwise: the
 * port of the "Nim in Action" chat server.
 *
 * @example
 * ```ts
 * import { DEFAULT_PORT } from "./limits.ts";
 * console.log(`connect to 127.0.0.1:${DEFAULT_PORT}`);
 * ```
 */
export const DEFAULT_PORT = 7687;

/**
 * The longest line relayed, in bytes of content (terminator excluded).
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_LINE_BYTES } from "./limits.ts";
 * console.log(DEFAULT_MAX_LINE_BYTES === 64 * 1024);
 * ```
 */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

/**
 * How many bytes may wait to be written to one client before it counts as
 * a slow consumer and is disconnected.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_PENDING_BYTES } from "./limits.ts";
 * console.log(DEFAULT_MAX_PENDING_BYTES === 4 * 1024 * 1024);
 * ```
 */
export const DEFAULT_MAX_PENDING_BYTES = 4 * 1024 * 1024;

/**
 * How many clients may be connected at once; one more is accepted and
 * closed at once.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_CLIENTS } from "./limits.ts";
 * console.log(DEFAULT_MAX_CLIENTS);
 * ```
 */
export const DEFAULT_MAX_CLIENTS = 10_000;
