/**
 * From attempts to the report: a case's result (verdict, headline, trace
 * when it matters) and the report of the whole run.
 *
 * @module
 */

import type { Attempt } from "./attempt.ts";
import type { CaseDefinition } from "./case.ts";
import type { CaseResult, LevelFilter, Verdict } from "./types.ts";
import { isCounted, sortFindings, verdictOf } from "./verdict.ts";

/**
 * How a case's attempts came out.
 *
 * @example
 * ```ts
 * import type { Outcome } from "./results.ts";
 * const outcome: Outcome = { attempts: 2, verdict: "flaky", firstVerdict: "fail" };
 * console.log(outcome.verdict);
 * ```
 */
export interface Outcome {
  /** 1, or 2 when a failure was retried. */
  attempts: number;
  /** The verdict of the whole (see `combineAttempts`). */
  verdict: Verdict;
  /** The first attempt's verdict (a flaky result counts as it would). */
  firstVerdict: Verdict;
}

/**
 * The result of a case from its first attempt and the outcome: findings
 * worst first, the first that is not a note as the message, and the trace
 * and server output of a result that is not a pass, a measurement or a
 * skip (of every result with `verbose`).
 *
 * @example
 * ```ts
 * import { caseResult } from "./results.ts";
 * import { skippedAttempt } from "./attempt.ts";
 *
 * const definition = { id: "limits.server-full", clause: "§4.8", level: "SHOULD" as const, requirement: "…", run: async () => {} };
 * const attempt = skippedAttempt("§4.8", "needs --max-clients N");
 * const result = caseResult(definition, attempt, { attempts: 1, verdict: "skipped", firstVerdict: "skipped" }, "all", false);
 * console.log(result.verdict, result.message); // "skipped" "needs --max-clients N"
 * ```
 */
export function caseResult(
  definition: CaseDefinition,
  attempt: Attempt,
  outcome: Outcome,
  level: LevelFilter,
  verbose: boolean,
): CaseResult {
  const { verdict } = outcome;
  const findings = sortFindings(attempt.findings);
  const headline = findings.find((f) => f.severity !== "info") ?? findings[0];
  const withTrace = verbose || !["pass", "info", "skipped"].includes(verdict);
  const cause = findings.find((f) => f.severity !== "info")?.cause;
  const result: CaseResult = {
    id: definition.id,
    area: definition.id.split(".")[0],
    clause: definition.clause,
    level: definition.level,
    requirement: definition.requirement,
    verdict,
    counted: isCounted(
      verdict,
      level,
      outcome.firstVerdict,
      definition.level,
    ),
    message: headline?.message ?? "ok",
    findings,
    measurements: attempt.measurements,
    durationMs: Math.round(attempt.durationMs),
    attempts: outcome.attempts,
  };
  if (cause !== undefined) result.cause = cause;
  if (withTrace && attempt.trace.length > 0) {
    result.trace = attempt.trace;
    if (attempt.traceOmitted > 0) result.traceOmitted = attempt.traceOmitted;
    if (attempt.serverOutput) result.serverOutput = attempt.serverOutput;
  }
  return result;
}

/**
 * The outcome of a case that ran once.
 *
 * @example
 * ```ts
 * import { singleOutcome } from "./results.ts";
 * console.log(singleOutcome("MUST", [])); // { attempts: 1, verdict: "pass", firstVerdict: "pass" }
 * ```
 */
export function singleOutcome(
  level: CaseDefinition["level"],
  findings: Attempt["findings"],
): Outcome {
  const verdict = verdictOf(level, findings);
  return { attempts: 1, verdict, firstVerdict: verdict };
}

/**
 * How the server ended the lines the run received: CR LF, LF, mixed, or
 * unknown when none came. A line whose content ends with CR reads as CR
 * LF from an LF server, so a few CR LF lines among LF ones still make an
 * LF server.
 *
 * @example
 * ```ts
 * import { outputTerminator } from "./results.ts";
 * console.log(outputTerminator(100, 95), outputTerminator(100, 0)); // "lf" "crlf"
 * ```
 */
export function outputTerminator(
  linesReceived: number,
  lfOnlyLines: number,
): "crlf" | "lf" | "mixed" | "unknown" {
  return linesReceived === 0
    ? "unknown"
    : lfOnlyLines === 0
    ? "crlf"
    : lfOnlyLines >= 0.9 * linesReceived
    ? "lf"
    : "mixed";
}
