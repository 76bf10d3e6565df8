/**
 * The JSON reporter: the report as pretty-printed JSON, following
 * `REPORT_SCHEMA` (see `../schema.ts` and the README).
 *
 * @module
 */

import type { Report } from "../types.ts";

/**
 * Formats the report as JSON (two-space indent, trailing newline).
 *
 * @example
 * ```ts ignore
 * import { formatJson } from "./json.ts";
 * await Deno.writeTextFile("report.json", formatJson(report));
 * ```
 */
export function formatJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
