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

/**
 * How long a client's pending output may go without shrinking before the
 * client is disconnected as a slow consumer (PROTOCOL.md §4.11), in ms.
 *
 * @example
 * ```ts
 * import { DEFAULT_WRITE_TIMEOUT_MS } from "./limits.ts";
 * console.log(DEFAULT_WRITE_TIMEOUT_MS === 30_000);
 * ```
 */
export const DEFAULT_WRITE_TIMEOUT_MS = 30_000;

/**
 * The most bytes of pending output all clients together may hold, at real
 * cost (PROTOCOL.md §4.10); over it, the clients holding the most are
 * disconnected first.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_TOTAL_PENDING_BYTES } from "./limits.ts";
 * console.log(DEFAULT_MAX_TOTAL_PENDING_BYTES === 1024 ** 3);
 * ```
 */
export const DEFAULT_MAX_TOTAL_PENDING_BYTES = 1024 ** 3;
