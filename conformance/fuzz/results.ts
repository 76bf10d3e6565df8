/**
 * The fuzz mode's place in the report: the `fuzz` area and its clauses
 * ({@linkcode FUZZ_CASES}), each a result like a case's, so every report
 * format shows them. The clause a failing schedule breaks fails with the
 * shrunk schedule as a list of steps, the seed, the command that replays
 * it and the wire trace of its last run; the others pass for the
 * schedules run (or are skipped, with a replay, when it did not reach
 * them).
 *
 * @module
 */

import type { Attempt } from "../attempt.ts";
import { formatDuration } from "../duration.ts";
import { caseResult } from "../results.ts";
import type { CaseResult, Finding, LevelFilter } from "../types.ts";
import { verdictOf } from "../verdict.ts";
import type { FuzzOutcome } from "./fuzz.ts";
import { FUZZ_CASES, fuzzCaseFor } from "./fuzz_cases.ts";
import type { Mismatch } from "./judge.ts";
import { describeStep, encodeSchedule } from "./schedule.ts";

/**
 * What the report needs besides the outcome.
 *
 * @example
 * ```ts
 * import type { FuzzReportContext } from "./results.ts";
 * const context: FuzzReportContext = { command: "deno task conformance --target 127.0.0.1:7687", level: "all", verbose: false };
 * console.log(context.level);
 * ```
 */
export interface FuzzReportContext {
  /** The command that reaches the same server (`--target …` or `--spawn …`). */
  command: string;
  /** The level filter of the run. */
  level: LevelFilter;
  /** Keep the trace of every result. */
  verbose: boolean;
}

function mismatchFinding(mismatch: Mismatch): Finding {
  const finding: Finding = {
    severity: "fail",
    clause: mismatch.clause,
    message: mismatch.message,
  };
  if (mismatch.expected) {
    finding.expected = { [mismatch.client]: mismatch.expected };
  }
  if (mismatch.received) {
    finding.received = { [mismatch.client]: mismatch.received };
  }
  return finding;
}

/**
 * The fuzz area's results for `outcome`.
 *
 * @example
 * ```ts
 * import { fuzzResults } from "./results.ts";
 * const outcome = { seed: 7, runs: 10, steps: 80, durationMs: 900, outOfTime: false, unconfirmed: [], received: { lines: 0, lfOnly: 0 } };
 * const results = fuzzResults(outcome, { command: "deno task conformance --target 127.0.0.1:7687", level: "all", verbose: false });
 * console.log(results.length, results[0].verdict); // 7 "pass"
 * ```
 */
export function fuzzResults(
  outcome: FuzzOutcome,
  context: FuzzReportContext,
): CaseResult[] {
  const failure = outcome.failure;
  const headline = failure?.execution.mismatches[0];
  const failing = headline ? fuzzCaseFor(headline.clause) : undefined;
  const replay = failure
    ? `${context.command} --fuzz --seed ${outcome.seed} --replay ${
      encodeSchedule(failure.steps)
    }`
    : undefined;
  const searched = outcome.replayed
    ? `the schedule given with --replay (${outcome.steps} steps)`
    : `${outcome.runs} schedule(s), ${outcome.steps} steps, seed ${outcome.seed}, ${
      formatDuration(outcome.durationMs)
    }`;
  const measurements = {
    seed: outcome.seed,
    schedules: outcome.runs,
    steps: outcome.steps,
  };
  return FUZZ_CASES.map((definition) => {
    const findings: Finding[] = [];
    const attempt: Attempt = {
      findings,
      measurements: { ...measurements },
      trace: [],
      traceOmitted: 0,
      durationMs: definition === failing || failing === undefined
        ? outcome.durationMs
        : 0,
    };
    if (failure && definition === failing) {
      const own = failure.execution.mismatches.filter((m) =>
        definition.clauses.includes(m.clause)
      );
      findings.push(...own.slice(0, 6).map(mismatchFinding));
      findings.push({
        severity: "info",
        clause: definition.clause,
        message: outcome.replayed
          ? `replayed the schedule given with --replay (${failure.steps.length} step(s))`
          : `found in schedule ${failure.foundAtRun} of seed ${outcome.seed} after ${
            formatDuration(failure.foundAfterMs)
          }; shrunk from ${failure.originalSteps} to ${failure.steps.length} step(s) in ${
            formatDuration(failure.shrinkMs)
          }${
            failure.reproduced
              ? ""
              : " (the last replay passed: it depends on timing, the trace is of an earlier run)"
          }`,
      });
      findings.push({
        severity: "info",
        clause: definition.clause,
        message: failure.steps.length === 0
          ? "schedule: no step at all (the observers O and P alone show it)"
          : `schedule (observers O and P are in the room throughout; P's lines lcf~… synchronise):`,
      });
      failure.steps.forEach((step, i) =>
        findings.push({
          severity: "info",
          clause: definition.clause,
          message: `  ${i + 1}. ${describeStep(step)}`,
        })
      );
      findings.push({
        severity: "info",
        clause: definition.clause,
        message: `replay: ${replay}`,
      });
      attempt.trace = failure.execution.trace.events();
      attempt.traceOmitted = failure.execution.trace.omitted;
      attempt.measurements.shrunkSteps = failure.steps.length;
      attempt.measurements.originalSteps = failure.originalSteps;
      attempt.measurements.foundAfterMs = Math.round(failure.foundAfterMs);
    } else if (failure) {
      const other = failure.execution.mismatches.find((m) =>
        definition.clauses.includes(m.clause)
      );
      findings.push(
        other
          ? {
            // A consequence of the failure, seen after it: a note only.
            severity: "info",
            clause: other.clause,
            message: `seen in ${
              failing!.id
            }'s failing schedule too: ${other.message}`,
          }
          : {
            severity: "info",
            clause: definition.clause,
            message: `held in the ${outcome.runs} schedule(s) run before ${
              failing!.id
            } failed (seed ${outcome.seed})`,
          },
      );
    } else {
      findings.push({
        severity: "info",
        clause: definition.clause,
        message: `held in ${searched}${
          outcome.outOfTime ? " (stopped at --time)" : ""
        }`,
      });
      for (const m of outcome.unconfirmed) {
        if (!definition.clauses.includes(m.clause)) continue;
        findings.push({
          severity: "info",
          clause: m.clause,
          message:
            `a schedule failed once (${m.message}) and passed when run again (on a fresh server with --spawn, with longer waits if a wait had run out): not counted`,
        });
      }
    }
    const verdict = verdictOf(definition.level, findings);
    return caseResult(
      { ...definition, run: () => Promise.resolve() },
      attempt,
      { attempts: 1, verdict, firstVerdict: verdict },
      context.level,
      context.verbose,
    );
  });
}
