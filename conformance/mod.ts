/**
 * The linechat conformance suite: drives any server that speaks the line
 * protocol with simulated clients and reports, clause by clause of
 * PROTOCOL.md, where it conforms, with evidence.
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
export * from "./cases/mod.ts";
export * from "./context.ts";
export * from "./escape.ts";
export * from "./glob.ts";
export * from "./peer.ts";
export * from "./reporters/mod.ts";
export {
  CONFORMANCE_VERSION,
  type ConformanceOptions,
  HarnessError,
  type ProgressEvent,
  runConformance,
  selectCases,
} from "./runner.ts";
export * from "./schema.ts";
export * from "./server_process.ts";
export * from "./trace.ts";
export * from "./types.ts";
export * from "./verdict.ts";
