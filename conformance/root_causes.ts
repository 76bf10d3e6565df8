/**
 * Root causes (diagnoses) of a run: the failures they explain, and when
 * the first cases all fail on one that will fail every later case too,
 * the notice that stops the run.
 *
 * @module
 */

import type { Attempt } from "./attempt.ts";
import { describeCrashStatus } from "./describe_error.ts";
import type { CaseResult, Diagnosis } from "./types.ts";
import { isFailing } from "./verdict.ts";

/** When the first this many cases fail on one root cause, the run stops. */
const STOP_AFTER = 3;
/** Root causes that make every later case fail the same way. */
const BLOCKING_CAUSES = new Set([
  "lf-not-terminator",
  "crlf-not-terminator",
  "silent",
]);

/** Why a run stops early, for the cases not run and for the progress. */
export interface StopNotice {
  /** The message of each case not run. */
  skipMessage: string;
  /** The notice printed when the run stops. */
  message: string;
  /** The root cause it stops on. */
  diagnosis: Diagnosis;
}

/**
 * The diagnoses of one run, in the order they were found.
 *
 * @example
 * ```ts
 * import { RootCauses } from "./root_causes.ts";
 * const causes = new RootCauses();
 * causes.add({ id: "silent", severity: "fail", clause: "§2.1", message: "nothing is relayed", cases: [], stopped: false });
 * console.log(causes.list.length); // 1
 * ```
 */
export class RootCauses {
  /** Every diagnosis so far. */
  readonly list: Diagnosis[] = [];

  /** Adds `diagnosis`, or returns the one of its id already known. */
  add(diagnosis: Diagnosis): Diagnosis {
    const known = this.list.find((d) => d.id === diagnosis.id);
    if (known) return known;
    this.list.push(diagnosis);
    return diagnosis;
  }

  /**
   * Ties a failing result to the diagnosis that explains it, if one does
   * (creating it on first sight for what the cases themselves find).
   */
  explain(result: CaseResult, attempt: Attempt): void {
    const byId = (id: string) => this.list.find((d) => d.id === id);
    if (result.findings.some((f) => f.cause === "late-registration")) {
      const late = this.add({
        id: "late-registration",
        severity: "info",
        clause: "§2.1",
        message:
          "the server registers some clients later than it accepts them: a barrier line " +
          "relayed right after a client connected missed it, a repeat reached it (after a banner?); " +
          "the harness repeats its barrier lines, so the cases still judge the rest",
        cases: [],
        stopped: false,
      });
      late.cases.push(result.id);
    }
    // A cause is named only with its diagnosis, which says what it is.
    const own = result.cause;
    delete result.cause;
    if (!isFailing(result.verdict) && result.verdict !== "flaky") return;
    let cause: string | undefined;
    const silent = (attempt.linesReceived ?? 1) === 0;
    for (const id of ["lf-not-terminator", "crlf-not-terminator", "silent"]) {
      if (silent && byId(id)) cause = id;
    }
    if (cause === undefined && own === "decorated") {
      this.add({
        id: "decorated",
        severity: "fail",
        clause: "§2.4",
        message: "the server adds bytes to the lines it relays (" +
          (result.findings.find((f) => f.cause === "decorated")?.message ??
            result.message) +
          ")",
        cases: [],
        stopped: false,
      });
      cause = "decorated";
    }
    if (
      cause === undefined && byId("slow-relay") &&
      (result.verdict === "timeout" || own === "slow-relay")
    ) {
      cause = "slow-relay";
    }
    if (cause === undefined && attempt.crash) {
      cause = `crash: ${describeCrashStatus(attempt.crash)}`;
    }
    if (cause === undefined) return;
    result.cause = cause;
    byId(cause)?.cases.push(result.id);
  }

  /**
   * When the first cases all fail on one root cause that will fail every
   * case after them too, stops the run (unless `keepGoing`).
   */
  checkStop(results: readonly CaseResult[]): StopNotice | undefined {
    const ran = results.filter((r) => r.verdict !== "skipped");
    if (ran.length !== STOP_AFTER) return undefined;
    const cause = ran[0].cause;
    if (
      cause === undefined ||
      !ran.every((r) => isFailing(r.verdict) && r.cause === cause)
    ) return undefined;
    let diagnosis = this.list.find((d) => d.id === cause);
    if (diagnosis === undefined && cause.startsWith("crash: ")) {
      diagnosis = this.add({
        id: cause,
        severity: "fail",
        clause: "§5.2",
        message:
          `the server process exited during each of the first ${STOP_AFTER} cases (${
            cause.slice("crash: ".length)
          })`,
        cases: ran.map((r) => r.id),
        stopped: false,
      });
    }
    if (
      diagnosis === undefined ||
      !(BLOCKING_CAUSES.has(cause) || cause.startsWith("crash: "))
    ) return undefined;
    diagnosis.stopped = true;
    return {
      skipMessage: `not run: the run stopped on root cause ${diagnosis.id}, ` +
        `which failed the first ${STOP_AFTER} cases (--keep-going runs every case)`,
      message:
        `the first ${STOP_AFTER} cases all failed on one root cause, ${diagnosis.id}` +
        (diagnosis.hint ? `: ${diagnosis.hint}` : "") +
        "; the others would fail on it too, so they are not run " +
        "(--keep-going runs every case anyway)",
      diagnosis,
    };
  }
}
