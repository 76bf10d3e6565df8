/**
 * `deno task attack`: hostile-client attacks against any line-protocol
 * chat server (a flood, tiny lines to clients that never read, a blocked
 * stdout, resets, many connections from one address, slowloris), each
 * bounded in time and bytes, and the pieces they are made of.
 *
 * @example Run the reset attack against our server
 * ```ts ignore
 * import { runReset } from "./mod.ts";
 *
 * const { result } = await runReset({ kind: "ours", transport: "node", env: {} });
 * console.log(`${result.lost} of ${result.linesSent} lines lost`);
 * ```
 *
 * @module
 */

export * from "./attacks.ts";
export * from "./blocked_stdout.ts";
export * from "./cli.ts";
export * from "./flood.ts";
export * from "./marked_lines.ts";
export * from "./paced_chat.ts";
export * from "./per_ip.ts";
export * from "./report.ts";
export * from "./reset.ts";
export * from "./slowloris.ts";
export * from "./target.ts";
export * from "./tcp_table.ts";
export * from "./tiny_lines.ts";
