/**
 * Recording what a case observed: findings with their evidence (lines
 * escaped as they are recorded), measurements, notes in the trace, and the
 * two ways a case stops early ({@linkcode CaseAbort}, {@linkcode CaseSkip}).
 *
 * @module
 */

import type { ReceivedLine } from "../client/chat_client.ts";
import { escapeLines } from "./escape.ts";
import type { TraceRecorder } from "./trace.ts";
import type { ClientLines, DataValue, Finding, Level } from "./types.ts";

/**
 * Thrown by a case to stop after recording a finding.
 *
 * @example
 * ```ts
 * import { CaseAbort } from "./findings.ts";
 * console.log(new CaseAbort().message); // "case aborted"
 * ```
 */
export class CaseAbort extends Error {
  /** Creates the error. */
  constructor(message = "case aborted") {
    super(message);
    this.name = "CaseAbort";
  }
}

/**
 * Thrown by {@linkcode FindingRecorder.skip}: the case stops as skipped.
 *
 * @example
 * ```ts
 * import { CaseSkip } from "./findings.ts";
 * console.log(new CaseSkip("needs --spawn").message); // "needs --spawn"
 * ```
 */
export class CaseSkip extends Error {
  /** Creates the error with the reason. */
  constructor(reason: string) {
    super(reason);
    this.name = "CaseSkip";
  }
}

/**
 * Evidence for a finding; lines are escaped when recorded.
 *
 * @example
 * ```ts
 * import type { Evidence } from "./findings.ts";
 * const evidence: Evidence = { clause: "§2.2", expected: { A: [] }, received: { A: ["echo"] } };
 * console.log(evidence.clause);
 * ```
 */
export interface Evidence {
  /** The clause, when not the case's own. */
  clause?: string;
  /** What each client should have received. */
  expected?: Record<string, readonly (Uint8Array | string | ReceivedLine)[]>;
  /** What each client received. */
  received?: Record<string, readonly (Uint8Array | string | ReceivedLine)[]>;
  /** Numbers and facts. */
  data?: Record<string, DataValue>;
  /** The id of a run diagnosis that explains it (e.g. `decorated`). */
  cause?: string;
}

/** Most lines of one client kept in a finding's evidence. */
const MAX_EVIDENCE_LINES = 200;

/**
 * The findings and measurements of one attempt of a case. A failure is
 * `fail` in a MUST (or INFO) case and `non-strict` in a SHOULD case;
 * every finding is also noted in the trace.
 *
 * @example
 * ```ts
 * import { FindingRecorder } from "./findings.ts";
 * import { TraceRecorder } from "./trace.ts";
 *
 * const findings = new FindingRecorder("SHOULD", "§2.11", new TraceRecorder());
 * findings.fail("lines were delayed", { received: { B: [new Uint8Array([0])] } });
 * console.log(findings.findings[0].severity, findings.findings[0].received); // "non-strict" { B: [ "\\0" ] }
 * ```
 */
export class FindingRecorder {
  /** Findings so far, in the order recorded. */
  readonly findings: Finding[] = [];
  /** Measurements so far. */
  readonly measurements: Record<string, DataValue> = {};
  readonly #level: Level;
  readonly #clause: string;
  readonly #trace: TraceRecorder;
  #closed = false;

  /** Records for a case of `level` that checks `clause`. */
  constructor(level: Level, clause: string, trace: TraceRecorder) {
    this.#level = level;
    this.#clause = clause;
    this.#trace = trace;
  }

  /** Whether any finding so far fails the case. */
  get failed(): boolean {
    return this.findings.some((f) => f.severity === "fail");
  }

  /**
   * Takes no more findings: the case was stopped at its deadline and its
   * clients closed, so what it records afterwards describes the harness
   * stopping it, not the server. Later findings go to the trace only.
   */
  close(): void {
    this.#closed = true;
  }

  /**
   * Records that the requirement is broken: `fail` in a MUST (or INFO)
   * case, `non-strict` in a SHOULD case.
   */
  fail(message: string, evidence: Evidence = {}): void {
    this.#record(
      this.#level === "SHOULD" ? "non-strict" : "fail",
      message,
      evidence,
    );
  }

  /**
   * Like {@linkcode fail}, but the finding goes first: it explains those
   * recorded before it (a crash, a server that closed clients).
   */
  failFirst(message: string, evidence: Evidence = {}): void {
    const before = this.findings.length;
    this.fail(message, evidence);
    if (this.findings.length > before) {
      this.findings.unshift(this.findings.pop()!);
    }
  }

  /**
   * A finding of the harness about the attempt (a crash, the deadline),
   * recorded even after {@linkcode close}; `first` puts it first.
   */
  harness(
    severity: Finding["severity"],
    message: string,
    evidence: Evidence = {},
    first = false,
  ): void {
    this.#record(severity, message, evidence, true);
    if (first) this.findings.unshift(this.findings.pop()!);
  }

  /** Records that a SHOULD is broken (whatever the case's level). */
  nonStrict(message: string, evidence: Evidence = {}): void {
    this.#record("non-strict", message, evidence);
  }

  /** Records a note: what was observed, when nothing is broken. */
  info(message: string, evidence: Evidence = {}): void {
    this.#record("info", message, evidence);
  }

  /** Records a part of the case that could not be judged here. */
  skipPart(message: string, evidence: Evidence = {}): void {
    this.#record("skip", message, evidence);
  }

  /** Stops the case as skipped, with the reason. */
  skip(reason: string): never {
    throw new CaseSkip(reason);
  }

  /** Records `message` as a failure and stops the case. */
  abort(message: string, evidence: Evidence = {}): never {
    this.fail(message, evidence);
    throw new CaseAbort(message);
  }

  /** Records a measurement (numbers to three decimals) and notes it. */
  measure(name: string, value: DataValue): void {
    this.measurements[name] = typeof value === "number"
      ? Math.round(value * 1000) / 1000
      : value;
    this.#trace.note(`measured ${name} = ${value}`);
  }

  #record(
    severity: Finding["severity"],
    message: string,
    evidence: Evidence,
    force = false,
  ): void {
    if (this.#closed && !force) {
      this.#trace.note(
        `(after the deadline, not judged) ${severity}: ${message}`,
      );
      return;
    }
    const finding: Finding = {
      severity,
      clause: evidence.clause ?? this.#clause,
      message,
    };
    if (evidence.expected) {
      finding.expected = escapeClientLines(evidence.expected);
    }
    if (evidence.received) {
      finding.received = escapeClientLines(evidence.received);
    }
    if (evidence.data) finding.data = evidence.data;
    if (evidence.cause) finding.cause = evidence.cause;
    this.findings.push(finding);
    this.#trace.note(`${severity}: ${message}`);
  }
}

function escapeClientLines(
  lines: Record<string, readonly (Uint8Array | string | ReceivedLine)[]>,
): ClientLines {
  const out: ClientLines = {};
  for (const [client, list] of Object.entries(lines)) {
    const shown = list.length > MAX_EVIDENCE_LINES
      ? list.slice(0, MAX_EVIDENCE_LINES)
      : list;
    out[client] = escapeLines(shown);
    if (list.length > shown.length) {
      out[client].push(`… ${list.length - shown.length} more lines`);
    }
  }
  return out;
}
