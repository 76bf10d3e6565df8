/**
 * The version every linechat program reports with `--version`: the one in
 * `deno.json`, so there is a single place to change it.
 *
 * @module
 */

import config from "../deno.json" with { type: "json" };

/**
 * linechat's version, e.g. `"0.2.0"`.
 *
 * @example
 * ```ts
 * import { VERSION } from "./version.ts";
 * console.log(/^\d+\.\d+\.\d+/.test(VERSION)); // true
 * ```
 */
export const VERSION: string = config.version;
