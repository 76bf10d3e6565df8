/**
 * What a report says of the dialect a run judged through: the profile,
 * each relaxation applied, and the clauses given up.
 *
 * @module
 */

import type { DialectReport } from "../types.ts";
import { type Dialect, givenUpClauses, relaxations } from "./dialect.ts";

/**
 * The report's `dialect` for `dialect`.
 *
 * @example
 * ```ts
 * import { dialectReport } from "./report.ts";
 * console.log(dialectReport({ echo: true }).notApplicable[0].clause); // "§2.2"
 * ```
 */
export function dialectReport(dialect: Dialect): DialectReport {
  return {
    profile: JSON.stringify(dialect),
    relaxations: relaxations(dialect),
    notApplicable: [...givenUpClauses(dialect)].map(([clause, reason]) => ({
      clause,
      reason,
    })),
  };
}
