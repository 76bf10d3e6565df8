/**
 * Case selection by glob: `--only` and `--skip` patterns on case ids (and
 * on clauses, for patterns that start with `§`).
 *
 * @module
 */

/**
 * Compiles a glob to an anchored regular expression: `*` matches any run
 * of characters (dots included), `?` one character; everything else is
 * literal.
 *
 * @example
 * ```ts
 * import { globToRegExp } from "./glob.ts";
 * console.log(globToRegExp("relay.*").test("relay.no-echo")); // true
 * ```
 */
export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (const char of glob) {
    if (char === "*") source += ".*";
    else if (char === "?") source += ".";
    else source += char.replace(/[.+^${}()|[\]\\/-]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

/**
 * Splits repeated, comma-separated pattern flags into single patterns.
 *
 * @example
 * ```ts
 * import { splitPatterns } from "./glob.ts";
 * console.log(splitPatterns(["relay.*,framing.nul", " limits "])); // [ "relay.*", "framing.nul", "limits" ]
 * ```
 */
export function splitPatterns(values: readonly string[]): string[] {
  return values.flatMap((value) => value.split(","))
    .map((pattern) => pattern.trim())
    .filter((pattern) => pattern !== "");
}

/**
 * Whether a case matches a pattern. A pattern starting with `§` matches
 * the case's clause (`§1.*` matches `§1.3`); any other pattern matches the
 * id, and a pattern without wildcards also matches every id below it
 * (`relay` matches `relay.no-echo`).
 *
 * @example
 * ```ts
 * import { matchesPattern } from "./glob.ts";
 * const noEcho = { id: "relay.no-echo", clause: "§2.2" };
 * console.log(matchesPattern(noEcho, "relay"), matchesPattern(noEcho, "§2.*")); // true true
 * ```
 */
export function matchesPattern(
  target: { id: string; clause: string },
  pattern: string,
): boolean {
  if (pattern.startsWith("§")) {
    return globToRegExp(pattern).test(target.clause);
  }
  if (globToRegExp(pattern).test(target.id)) return true;
  return !/[*?]/.test(pattern) && target.id.startsWith(`${pattern}.`);
}

/**
 * Filters by `only` (keep a case matching any; all when empty) and then
 * `skip` (drop a case matching any).
 *
 * @example
 * ```ts
 * import { selectByPatterns } from "./glob.ts";
 * const cases = [{ id: "relay.basic", clause: "§2.1" }, { id: "framing.nul", clause: "§1.3" }];
 * console.log(selectByPatterns(cases, [], ["relay"]).map((c) => c.id)); // [ "framing.nul" ]
 * ```
 */
export function selectByPatterns<T extends { id: string; clause: string }>(
  cases: readonly T[],
  only: readonly string[],
  skip: readonly string[],
): T[] {
  return cases.filter((c) =>
    (only.length === 0 || only.some((p) => matchesPattern(c, p))) &&
    !skip.some((p) => matchesPattern(c, p))
  );
}
