/**
 * The line-chat server as a library: start one with {@linkcode serve}, or
 * build on its {@linkcode Room} with another transport.
 *
 * @example
 * ```ts
 * import { Logger, serve } from "./mod.ts";
 * const server = serve({ port: 0, logger: new Logger({ write: () => {} }) });
 * await server.shutdown();
 * ```
 *
 * @module
 */

export * from "./batch.ts";
export * from "./chat_server.ts";
export * from "./client_connection.ts";
export * from "./close_reason.ts";
export * from "./input_throttle.ts";
export * from "./cli.ts";
export * from "./logger.ts";
export * from "./outbound_queue.ts";
export * from "./room.ts";
export * from "./sender_window.ts";
export * from "./stats.ts";
export * from "./write_scheduler.ts";
