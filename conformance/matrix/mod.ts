/**
 * The conformance matrix: the suite against several servers side by side
 * (`deno task matrix`), its outputs (`matrix.json`, Markdown, HTML) and the
 * committed expectations it is checked against. The servers come from
 * `targets/servers.ts`.
 *
 * @example List the servers, run two cases against ours, render the table
 * ```ts ignore
 * import { buildMatrix, matrixServers, renderMatrixMarkdown, runMatrix } from "./mod.ts";
 *
 * const [ours] = await matrixServers();
 * const run = await runMatrix([ours], { settings: { only: ["relay.basic", "relay.no-echo"] } });
 * console.log(renderMatrixMarkdown(buildMatrix(run)));
 * ```
 *
 * @module
 */

export * from "./check.ts";
export * from "./columns.ts";
export * from "./expectations.ts";
export * from "./html.ts";
export * from "./json.ts";
export * from "./markdown.ts";
export * from "./running.ts";
export * from "./server_run.ts";
