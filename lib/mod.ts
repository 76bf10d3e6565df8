/**
 * Infrastructure shared by the product and the tools: argument parsing,
 * markup escaping, command templates, free ports, `/proc` readings and
 * servers started on demand. It imports nothing of the rest.
 *
 * @example
 * ```ts
 * import { freePort, shellQuote } from "./mod.ts";
 * console.log(freePort() > 0, shellQuote("a b"));
 * ```
 *
 * @module
 */

export * from "./args.ts";
export * from "./exit_status.ts";
export * from "./free_port.ts";
export * from "./listening.ts";
export * from "./markup.ts";
export * from "./on_path.ts";
export * from "./proc_stats.ts";
export * from "./server_process.ts";
export * from "./shell.ts";
export * from "./version.ts";
