/**
 * Whether a program is installed: found on the `PATH`.
 *
 * @module
 */

/**
 * Whether `program` is a file in one of the `PATH`'s directories.
 *
 * @example
 * ```ts
 * import { onPath } from "./on_path.ts";
 * console.log(onPath("sh")); // true
 * ```
 */
export function onPath(program: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      if (Deno.statSync(`${dir}/${program}`).isFile) return true;
    } catch {
      // Not in this directory.
    }
  }
  return false;
}
