/**
 * From findings to verdicts, from verdicts to the exit code: the pure
 * rules every reporter and the runner share.
 *
 * @module
 */

import type {
  CaseResult,
  Diagnosis,
  Finding,
  Level,
  LevelFilter,
  ReportSummary,
  Verdict,
} from "./types.ts";

const SEVERITY_ORDER: Record<Finding["severity"], number> = {
  fail: 0,
  "non-strict": 1,
  skip: 2,
  info: 3,
};

/**
 * The verdict a case's findings add up to: any `fail` finding fails it,
 * else any `non-strict` makes it non-strict, else any `skip` skips it;
 * otherwise an INFO case is `info` and any other `pass`.
 *
 * @example
 * ```ts
 * import { verdictOf } from "./verdict.ts";
 * console.log(verdictOf("MUST", [])); // "pass"
 * console.log(verdictOf("MUST", [{ severity: "non-strict", clause: "§4.3", message: "split" }])); // "non-strict"
 * ```
 */
export function verdictOf(level: Level, findings: readonly Finding[]): Verdict {
  const severities = new Set(findings.map((f) => f.severity));
  if (severities.has("fail")) return "fail";
  if (severities.has("non-strict")) return "non-strict";
  if (severities.has("skip")) return "skipped";
  return level === "INFO" ? "info" : "pass";
}

/**
 * Findings sorted worst first (stable within a severity).
 *
 * @example
 * ```ts
 * import { sortFindings } from "./verdict.ts";
 * const sorted = sortFindings([
 *   { severity: "info", clause: "§2.1", message: "note" },
 *   { severity: "fail", clause: "§2.1", message: "lost" },
 * ]);
 * console.log(sorted[0].message); // "lost"
 * ```
 */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return findings.map((finding, index) => ({ finding, index }))
    .sort((a, b) =>
      SEVERITY_ORDER[a.finding.severity] - SEVERITY_ORDER[b.finding.severity] ||
      a.index - b.index
    )
    .map(({ finding }) => finding);
}

/**
 * Whether a verdict reports a broken requirement, or one that could not be
 * judged in time (`timeout`).
 *
 * @example
 * ```ts
 * import { isFailing } from "./verdict.ts";
 * console.log(isFailing("timeout"), isFailing("flaky")); // true false
 * ```
 */
export function isFailing(verdict: Verdict): boolean {
  return verdict === "fail" || verdict === "non-strict" ||
    verdict === "timeout";
}

/**
 * The verdict of a case that was retried after a failing first attempt:
 * a retry can only mark it `flaky`, never turn the failure into a pass.
 *
 * @example
 * ```ts
 * import { combineAttempts } from "./verdict.ts";
 * console.log(combineAttempts("fail", "pass")); // "flaky"
 * console.log(combineAttempts("fail", "fail")); // "fail"
 * ```
 */
export function combineAttempts(first: Verdict, retry: Verdict): Verdict {
  if (!isFailing(first)) return first;
  return retry === "pass" || retry === "info" ? "flaky" : first;
}

/**
 * The verdict of an attempt: `timeout` when it reached its hard deadline
 * before its own findings could decide, else {@linkcode verdictOf}.
 *
 * @example
 * ```ts
 * import { attemptVerdict } from "./verdict.ts";
 * console.log(attemptVerdict("MUST", [], true)); // "timeout"
 * ```
 */
export function attemptVerdict(
  level: Level,
  findings: readonly Finding[],
  hitDeadline: boolean,
): Verdict {
  return hitDeadline ? "timeout" : verdictOf(level, findings);
}

/**
 * Whether a result makes the run fail at `filter`: `fail` always;
 * `non-strict` unless only MUST is selected; `timeout` as a failure at
 * the case's level (a SHOULD case's is not counted at `must`); `flaky` as
 * its first attempt would have counted. An INFO case never decides the
 * exit code, whatever its verdict: it measures, it has no pass mark.
 *
 * @example
 * ```ts
 * import { isCounted } from "./verdict.ts";
 * console.log(isCounted("non-strict", "must"), isCounted("non-strict", "all")); // false true
 * console.log(isCounted("fail", "all", "fail", "INFO")); // false
 * console.log(isCounted("timeout", "must", "timeout", "SHOULD")); // false
 * ```
 */
export function isCounted(
  verdict: Verdict,
  filter: LevelFilter,
  firstVerdict: Verdict = verdict,
  level: Level = "MUST",
): boolean {
  if (level === "INFO") return false;
  const counts = (v: Verdict) =>
    v === "fail" || (v === "non-strict" && filter !== "must") ||
    (v === "timeout" && (level === "MUST" || filter !== "must"));
  if (verdict === "flaky") return counts(firstVerdict);
  return counts(verdict);
}

/**
 * Whether a case of `level` runs under `filter`.
 *
 * @example
 * ```ts
 * import { levelSelected } from "./verdict.ts";
 * console.log(levelSelected("SHOULD", "must"), levelSelected("INFO", "all")); // false true
 * ```
 */
export function levelSelected(level: Level, filter: LevelFilter): boolean {
  if (filter === "all") return true;
  if (filter === "should") return level !== "INFO";
  return level === "MUST";
}

/**
 * Counts verdicts and derives the exit code: 1 when any result is
 * counted as a failure, or the run stopped on a diagnosis of severity
 * `fail` (a server that dies on every connection), else 0.
 *
 * @example
 * ```ts
 * import { summarize } from "./verdict.ts";
 * const summary = summarize([{ verdict: "pass", counted: false }, { verdict: "fail", counted: true }]);
 * console.log(summary.fail, summary.exitCode); // 1 1
 * ```
 */
export function summarize(
  results: readonly Pick<CaseResult, "verdict" | "counted">[],
  diagnoses: readonly Pick<Diagnosis, "severity" | "stopped">[] = [],
): ReportSummary {
  const summary: ReportSummary = {
    total: results.length,
    pass: 0,
    "non-strict": 0,
    fail: 0,
    skipped: 0,
    flaky: 0,
    timeout: 0,
    info: 0,
    counted: 0,
    exitCode: 0,
  };
  for (const result of results) {
    summary[result.verdict]++;
    if (result.counted) summary.counted++;
  }
  const fatal = diagnoses.some((d) => d.stopped && d.severity === "fail");
  summary.exitCode = summary.counted > 0 || fatal ? 1 : 0;
  return summary;
}
