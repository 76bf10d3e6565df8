/**
 * Reference chat servers to measure linechat against: three Nim servers
 * that follow published designs as written, quirks included (see
 * `reference/nim/README.md`), and the code that builds them.
 *
 * @example Build the references and list them
 * ```ts
 * import { buildReferences, findNim } from "./mod.ts";
 *
 * if (findNim() !== null) {
 *   for (const ref of await buildReferences()) {
 *     console.log(ref.name, ref.command(7687).join(" "));
 *   }
 * }
 * ```
 *
 * @module
 */

export {
  buildReferences,
  type BuildReferencesOptions,
  findNim,
  type ReferenceBinary,
} from "./build.ts";
