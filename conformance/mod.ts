/**
 * The linechat conformance suite: drives any server that speaks the line
 * protocol with simulated clients and reports, clause by clause of
 * PROTOCOL.md, where it conforms, with evidence. Servers it starts itself
 * (`spawn`) go through `lib/server_process.ts`.
 *
 * @example Run the relay cases against a server the suite starts itself
 * ```ts ignore
 * import { formatPretty, runConformance } from "./mod.ts";
 *
 * const report = await runConformance({
 *   spawn: "deno run -A server/main.ts --port {port}",
 *   only: ["relay.*"],
 * });
 * console.log(formatPretty(report));
 * Deno.exit(report.summary.exitCode);
 * ```
 *
 * @module
 */

export type {
  ChatClient,
  ConnectOptions,
  ReadLineOptions,
  ReceivedLine,
} from "../client/chat_client.ts";
export * from "./accept_queue.ts";
export * from "./bytes.ts";
export * from "./case.ts";
export * from "./case_peers.ts";
export * from "./cases/mod.ts";
export * from "./compare.ts";
export * from "./control_lines.ts";
export * from "./describe_error.ts";
export * from "./duration.ts";
export * from "./escape.ts";
export * from "./findings.ts";
export * from "./glob.ts";
export * from "./line_writer.ts";
export * from "./peer.ts";
export * from "./preflight.ts";
export * from "./raw_peer.ts";
export * from "./reporters/mod.ts";
export * from "./run_options.ts";
export * from "./reachability.ts";
export { runConformance } from "./runner.ts";
export { runBound } from "./run_bound.ts";
export * from "./schema.ts";
export * from "./server_monitor.ts";
export * from "./settings.ts";
export * from "./sync.ts";
export * from "./judge_lines.ts";
export * from "./trace.ts";
export * from "./types.ts";
export * from "./verdict.ts";
export * from "./wire_stats.ts";
