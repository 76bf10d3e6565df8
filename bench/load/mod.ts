/**
 * The load generator behind `deno task load`: connects many clients to
 * any line-chat server, sends numbered, timestamped lines on a fixed
 * schedule or as fast as the server takes them, and accounts for every
 * delivery. One module per phase or concern, wired together by
 * {@linkcode runLoad}.
 *
 * @example Drive a server and read the accounting
 * ```ts ignore
 * import { runLoad } from "./mod.ts";
 *
 * const report = await runLoad({ port: 7687, clients: 100, senders: 10, rate: 100, durationMs: 5000 });
 * console.log(report.accounting.lost, report.latency.corrected.p99);
 * ```
 *
 * @module
 */

export * from "./accounting.ts";
export * from "./cli.ts";
export * from "./clock.ts";
export * from "./format.ts";
export * from "./join.ts";
export * from "./options.ts";
export * from "./payload.ts";
export * from "./ramp.ts";
export * from "./receivers.ts";
export * from "./report.ts";
export * from "./run.ts";
export * from "./senders.ts";
export * from "./window.ts";
