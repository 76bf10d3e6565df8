/**
 * linechat's load and comparison toolkit: a load generator for any
 * line-protocol chat server (`deno task load`), a comparison of several
 * servers under the same workloads (`deno task compare`), and the pieces
 * they are made of.
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

export * from "./compare_report.ts";
export * from "./compare_runner.ts";
export * from "./compare_servers.ts";
export * from "./compare_workloads.ts";
export * from "./latency_histogram.ts";
export * from "./load_cli.ts";
export * from "./load_generator.ts";
export * from "./payload.ts";
export * from "../lib/proc_stats.ts";
export * from "./server_process.ts";
export * from "./statistics.ts";
export * from "./svg_chart.ts";
