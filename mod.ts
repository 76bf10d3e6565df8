/**
 * linechat: a TCP line-chat server, its client library, and the protocol's
 * bounded, binary-safe framer.
 *
 * @example Relay a line between two clients
 * ```ts
 * import { connect, Logger, serve } from "./mod.ts";
 *
 * const server = serve({ port: 0, logger: new Logger({ write: () => {} }) });
 * const alice = await connect({ port: server.addr.port });
 * const bob = await connect({ port: server.addr.port });
 * while (server.clientCount < 2) await new Promise((r) => setTimeout(r, 5));
 * await alice.send("hello");
 * console.log((await bob.readLine({ timeoutMs: 2000 }))?.text); // "hello"
 * alice.close();
 * bob.close();
 * await server.shutdown();
 * ```
 *
 * @module
 */

export * from "./client/mod.ts";
export * from "./protocol/mod.ts";
export * from "./server/mod.ts";
