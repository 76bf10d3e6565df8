/**
 * The report formats: pretty (people, with live progress), JSON (the
 * documented schema), JUnit XML and TAP (CI systems), HTML (a page to
 * share).
 *
 * @example
 * ```ts ignore
 * import { formatJunit } from "./mod.ts";
 * await Deno.writeTextFile("conformance.xml", formatJunit(report));
 * ```
 *
 * @module
 */

export * from "./html.ts";
export * from "./json.ts";
export * from "./junit.ts";
export * from "./pretty.ts";
export * from "./tap.ts";
