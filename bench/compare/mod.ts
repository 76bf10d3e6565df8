/**
 * `deno task compare`: the same workloads against several servers (those
 * of `targets/servers.ts`), each started fresh for every run, and the
 * report made of the results: Markdown tables, the goals, SVG
 * charts.
 *
 * @example Run one round of the quick workloads against ours
 * ```ts ignore
 * import { compareServers, renderMarkdown, runCompare, WORKLOADS } from "./mod.ts";
 *
 * const { servers } = await compareServers(["ours"]);
 * const results = await runCompare({ servers, workloads: WORKLOADS, quick: true, rounds: 1 });
 * console.log(renderMarkdown(results, []));
 * ```
 *
 * @module
 */

export * from "./cells.ts";
export * from "./charts.ts";
export * from "./cli.ts";
export * from "./goals.ts";
export * from "./markdown.ts";
export * from "./runner.ts";
export * from "./servers.ts";
export * from "./svg_chart.ts";
export * from "./workloads.ts";
