/**
 * The bound every run ends within, printed at its start.
 *
 * @module
 */

import { caseDeadlineMs } from "./attempt.ts";
import type { CaseDefinition } from "./case.ts";
import { type ConformanceOptions, DEFAULT_DEADLINE_MS } from "./run_options.ts";
import { TIMEOUTS } from "./settings.ts";

/** What the run allows each case beyond its own deadline (closing, checks). */
export const CASE_OVERHEAD_MS = 1500;

/**
 * The bound of a run of `cases`: the sum of their deadlines (scaled) and
 * a little for each, or the deadline if that is less. The deadline
 * defaults to 6 minutes times the timeout scale.
 *
 * @example
 * ```ts
 * import { runBound } from "./run_bound.ts";
 * console.log(runBound([{ budgetMs: 10_000 }, {}], { timeoutScale: 1 }));
 * // { ms: 38000, fromDeadline: false }
 * ```
 */
export function runBound(
  cases: readonly Pick<CaseDefinition, "budgetMs">[],
  options: Pick<ConformanceOptions, "timeoutScale" | "deadlineMs">,
): { ms: number; fromDeadline: boolean } {
  const scale = options.timeoutScale ?? 1;
  const deadline = options.deadlineMs ?? DEFAULT_DEADLINE_MS * scale;
  // The preflight, and stopping the server at the end.
  const fixed = (2 * TIMEOUTS.line + 2000) * scale + 3000;
  const sum = fixed + cases.reduce(
    (n, c) => n + caseDeadlineMs(c) * scale + CASE_OVERHEAD_MS,
    0,
  );
  return sum <= deadline
    ? { ms: Math.round(sum), fromDeadline: false }
    : { ms: Math.round(deadline), fromDeadline: true };
}
