/**
 * The servers under test the tools know by name; start them with
 * `lib/server_process.ts`.
 *
 * @example
 * ```ts
 * import { knownServers } from "./mod.ts";
 * console.log((await knownServers({ build: false })).length > 0);
 * ```
 *
 * @module
 */

export * from "./servers.ts";
