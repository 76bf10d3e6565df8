/**
 * Several server nodes as one room: a bus that joins each node's room to
 * the others' through Redis pub/sub, its message format, and the tools to
 * run a cluster (`deno task cluster`).
 *
 * @example
 * ```ts ignore
 * import { connectRedisBus } from "./mod.ts";
 * import { serve } from "../server/mod.ts";
 *
 * const bus = await connectRedisBus({ url: "redis://127.0.0.1:6379", room: "lobby" });
 * const server = serve({ port: 7687 });
 * bus.attach(server.room);
 * ```
 *
 * @module
 */

export * from "./bus_limits.ts";
export * from "./bus_stats.ts";
export * from "./cli.ts";
export * from "./message.ts";
export * from "./publish_backlog.ts";
export * from "./redis_bus.ts";
export * from "./redis_server.ts";
export * from "./redis_url.ts";
