/**
 * linechat's load and comparison toolkit: a load generator for any
 * line-protocol chat server (`deno task load`, in `load/`), a comparison
 * of several servers under the same workloads (`deno task compare`, in
 * `compare/`), and the pieces they share. The hostile-client attacks
 * (`deno task attack`) have their own module, `attack/mod.ts`.
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

export * from "./compare/mod.ts";
export * from "./flag_values.ts";
export * from "./latency_histogram.ts";
export * from "./load/mod.ts";
export * from "./spawn.ts";
export * from "./statistics.ts";
export * from "./units.ts";
