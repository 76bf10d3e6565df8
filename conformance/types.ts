/**
 * The conformance report's data model: levels, verdicts, findings, wire
 * trace events, case results and the report itself (whose JSON form is the
 * stable, documented schema `--format json` prints; see README.md,
 * "Conformance suite"). It imports nothing.
 *
 * @module
 */

/**
 * The JSON report's schema version. Bumped when a field is removed or
 * changes meaning, or a consumer's exhaustive reading of it would break
 * (version 2 added the verdict `timeout`, and `bound`, `latency` and
 * `diagnoses`); adding optional fields does not bump it.
 *
 * @example
 * ```ts
 * import { SCHEMA_VERSION } from "./types.ts";
 * console.log(SCHEMA_VERSION); // 2
 * ```
 */
export const SCHEMA_VERSION = 2;

/**
 * How binding a case's requirement is, after PROTOCOL.md: `MUST` (and MUST
 * NOT), `SHOULD`, or `INFO` for a measurement that has no pass mark.
 *
 * @example
 * ```ts
 * import type { Level } from "./types.ts";
 * const level: Level = "SHOULD";
 * console.log(level);
 * ```
 */
export type Level = "MUST" | "SHOULD" | "INFO";

/**
 * Which cases a run selects and counts: `must` runs MUST cases only and
 * counts only `fail`; `should` adds SHOULD cases and counts `non-strict`
 * too; `all` also runs INFO cases.
 *
 * @example
 * ```ts
 * import type { LevelFilter } from "./types.ts";
 * const filter: LevelFilter = "all";
 * console.log(filter);
 * ```
 */
export type LevelFilter = "must" | "should" | "all";

/**
 * Every verdict a case can get, declared once, in the order reports count
 * them (the pretty summary's columns, the HTML cards, the TAP summary):
 *
 * - `pass`: the requirement holds.
 * - `non-strict`: a SHOULD is broken (the server works, but worse).
 * - `fail`: a MUST is broken.
 * - `flaky`: failed, then passed when retried; counted like a failure.
 * - `timeout`: the case reached its hard deadline (or the run's) before
 *   it could judge; counted like a failure at its level.
 * - `skipped`: not run or not measurable here (the reason says why).
 * - `info`: a measurement with no pass mark (INFO cases).
 *
 * @example
 * ```ts
 * import { VERDICTS } from "./types.ts";
 * console.log(VERDICTS.join(" ")); // "pass non-strict fail flaky timeout skipped info"
 * ```
 */
export const VERDICTS = [
  "pass",
  "non-strict",
  "fail",
  "flaky",
  "timeout",
  "skipped",
  "info",
] as const;

/**
 * One of {@linkcode VERDICTS}: a case's outcome.
 *
 * @example
 * ```ts
 * import type { Verdict } from "./types.ts";
 * const verdict: Verdict = "non-strict";
 * console.log(verdict);
 * ```
 */
export type Verdict = typeof VERDICTS[number];

/**
 * Whether `value` names a verdict.
 *
 * @example
 * ```ts
 * import { isVerdict } from "./types.ts";
 * console.log(isVerdict("flaky"), isVerdict("ok")); // true false
 * ```
 */
export function isVerdict(value: unknown): value is Verdict {
  return (VERDICTS as readonly unknown[]).includes(value);
}

/**
 * Lines per client, each line escaped for display (see `escapeBytes`).
 *
 * @example
 * ```ts
 * import type { ClientLines } from "./types.ts";
 * const received: ClientLines = { B: ["hello"] };
 * console.log(received.B[0]);
 * ```
 */
export type ClientLines = Record<string, string[]>;

/**
 * A value a finding or measurement may carry.
 *
 * @example
 * ```ts
 * import type { DataValue } from "./types.ts";
 * const value: DataValue = 65536;
 * console.log(value);
 * ```
 */
export type DataValue = string | number | boolean | null;

/**
 * One observation a case made: a broken requirement with its evidence, a
 * note, or why part of it could not be judged.
 *
 * @example
 * ```ts
 * import type { Finding } from "./types.ts";
 * const finding: Finding = {
 *   severity: "fail",
 *   clause: "§2.2",
 *   message: "A received its own line back",
 *   expected: { A: [] },
 *   received: { A: ["echo probe"] },
 * };
 * console.log(finding.message);
 * ```
 */
export interface Finding {
  /**
   * `fail` breaks a MUST, `non-strict` a SHOULD; `info` is a note and
   * `skip` marks what could not be judged.
   */
  severity: "fail" | "non-strict" | "info" | "skip";
  /** The clause the observation is about, e.g. `§2.2`. */
  clause: string;
  /** One line saying what happened. */
  message: string;
  /** What each client should have received, escaped. */
  expected?: ClientLines;
  /** What each client received, escaped. */
  received?: ClientLines;
  /** Numbers and facts backing the message. */
  data?: Record<string, DataValue>;
  /**
   * The id of the run's diagnosis (see {@linkcode Diagnosis}) that
   * explains this finding, when one does.
   */
  cause?: string;
}

/**
 * A root cause the run found once, with the cases it explains: measured
 * before the cases (the server cannot be reached, dies on a connection,
 * frames only CR LF, decorates lines, registers clients late, relays
 * slowly), or seen in the first cases failing the same way.
 *
 * @example
 * ```ts
 * import type { Diagnosis } from "./types.ts";
 * const diagnosis: Diagnosis = {
 *   id: "lf-not-terminator",
 *   severity: "fail",
 *   clause: "§1.2",
 *   message: "nothing sent with LF alone comes back; lines ended by CR LF do",
 *   hint: "rerun with --send-eol crlf to test the rest",
 *   cases: ["relay.basic"],
 *   stopped: true,
 * };
 * console.log(diagnosis.id);
 * ```
 */
export interface Diagnosis {
  /** Stable id: `unreachable`, `dies-on-connect`, `lf-not-terminator`, … */
  id: string;
  /** `fail` for a broken MUST, `non-strict` for a SHOULD, `info` a note. */
  severity: "fail" | "non-strict" | "info";
  /** The clause it breaks or concerns. */
  clause: string;
  /** What was found, in one line. */
  message: string;
  /** What the user can do about it (an option to rerun with), if anything. */
  hint?: string;
  /** The cases whose failure it explains, in run order. */
  cases: string[];
  /** Whether the run stopped because of it (the cases after it were not run). */
  stopped: boolean;
  /** Numbers and facts backing the message. */
  data?: Record<string, DataValue>;
}

/**
 * The server's latency, measured before the cases: one line relayed from
 * one client to another and back, `rounds` times.
 *
 * @example
 * ```ts
 * import type { Latency } from "./types.ts";
 * const latency: Latency = { medianMs: 0.3, p99Ms: 0.9, rounds: 20, waitScale: 1 };
 * console.log(latency.waitScale);
 * ```
 */
export interface Latency {
  /** Median round trip (a line A → B, then one B → A), in ms. */
  medianMs: number;
  /** 99th percentile of the round trips, in ms. */
  p99Ms: number;
  /** Round trips measured. */
  rounds: number;
  /** What every wait for a line is multiplied by (1 to 4, from p99). */
  waitScale: number;
}

/**
 * One event of a case's wire trace.
 *
 * @example
 * ```ts
 * import type { TraceEvent } from "./types.ts";
 * const event: TraceEvent = { t: 1.25, client: "B", event: "recv", data: "hi", bytes: 2, terminator: "crlf" };
 * console.log(event.event);
 * ```
 */
export interface TraceEvent {
  /** Milliseconds since the case started. */
  t: number;
  /** The client's name in the case (`harness` for the harness itself). */
  client: string;
  /** What happened. */
  event:
    | "connect"
    | "send"
    | "recv"
    | "eof"
    | "reset"
    | "timeout"
    | "half-close"
    | "close"
    | "error"
    | "note";
  /** The bytes sent or received (escaped, abbreviated), or the note. */
  data?: string;
  /** How many bytes were sent or received. */
  bytes?: number;
  /** For received lines: the terminator the server used. */
  terminator?: "crlf" | "lf";
}

/**
 * A case's result, as the JSON report carries it.
 *
 * @example
 * ```ts
 * import type { CaseResult } from "./types.ts";
 * const result: Partial<CaseResult> = { id: "relay.no-echo", verdict: "pass" };
 * console.log(result.id);
 * ```
 */
export interface CaseResult {
  /** Stable dotted id, e.g. `relay.no-echo`. */
  id: string;
  /** The id's first part: `relay`, `framing`, `limits`, … */
  area: string;
  /** The PROTOCOL.md clause checked, e.g. `§2.2`. */
  clause: string;
  /** The case's level. */
  level: Level;
  /** The requirement checked, in one line. */
  requirement: string;
  /** The outcome. */
  verdict: Verdict;
  /** Whether this result makes the run fail at the selected level. */
  counted: boolean;
  /** One line: the main finding, or what was measured. */
  message: string;
  /** Every observation, worst first. */
  findings: Finding[];
  /** Named measurements (latencies in ms, sizes in bytes, counts). */
  measurements: Record<string, DataValue>;
  /** Wall time of the (first) attempt. */
  durationMs: number;
  /** 1, or 2 when a failure was retried. */
  attempts: number;
  /**
   * The wire trace of the first attempt: included for every result that
   * is not `pass`/`info`/`skipped`, and for all with `verbose`.
   */
  trace?: TraceEvent[];
  /** Trace events left out to bound its size. */
  traceOmitted?: number;
  /** With `--spawn`: what the server printed during the case (escaped). */
  serverOutput?: string;
  /** The id of the diagnosis that explains this case's failure, if one does. */
  cause?: string;
}

/**
 * The dialect a run judged through (`--dialect`).
 *
 * @example
 * ```ts
 * import type { DialectReport } from "./types.ts";
 * const d: DialectReport = { profile: "{}", relaxations: [], notApplicable: [] };
 * console.log(d.relaxations.length); // 0
 * ```
 */
export interface DialectReport {
  /** The dialect as declared, as JSON. */
  profile: string;
  /** Each relaxation applied, one line each. */
  relaxations: string[];
  /** The clauses given up, each with why. */
  notApplicable: { clause: string; reason: string }[];
}

/**
 * Verdict counts of a run and the exit code they imply.
 *
 * @example
 * ```ts
 * import type { ReportSummary } from "./types.ts";
 * const summary: Partial<ReportSummary> = { total: 3, pass: 3, exitCode: 0 };
 * console.log(summary.exitCode);
 * ```
 */
export interface ReportSummary {
  /** Cases in the report. */
  total: number;
  /** Results with verdict `pass`. */
  pass: number;
  /** Results with verdict `non-strict`. */
  "non-strict": number;
  /** Results with verdict `fail`. */
  fail: number;
  /** Results with verdict `skipped`. */
  skipped: number;
  /** Results with verdict `flaky`. */
  flaky: number;
  /** Results with verdict `timeout`. */
  timeout: number;
  /** Results with verdict `info`. */
  info: number;
  /** Results counted as failures at the selected level. */
  counted: number;
  /**
   * 0 when nothing counted failed, else 1 (also 1 when the run stopped on
   * a diagnosis of severity `fail`, such as a server that dies on every
   * connection).
   */
  exitCode: 0 | 1;
}

/**
 * A server crash seen with `--spawn`, blamed on the case running then.
 *
 * @example
 * ```ts
 * import type { CrashRecord } from "./types.ts";
 * const crash: CrashRecord = { caseId: "disconnect.reset", code: 1, signal: null, outputTail: "" };
 * console.log(crash.caseId);
 * ```
 */
export interface CrashRecord {
  /** The case running when the server exited. */
  caseId: string;
  /** Exit code, when it exited. */
  code: number | null;
  /** Signal, when it was killed by one. */
  signal: string | null;
  /** The last lines the server printed (control bytes escaped). */
  outputTail: string;
}

/**
 * The report of one run: the JSON form is the documented schema
 * (`schemaVersion` {@linkcode SCHEMA_VERSION}).
 *
 * @example
 * ```ts
 * import type { Report } from "./types.ts";
 * const report: Partial<Report> = { schemaVersion: 1 };
 * console.log(report.schemaVersion);
 * ```
 */
export interface Report {
  /** The schema's version: {@linkcode SCHEMA_VERSION}. */
  schemaVersion: typeof SCHEMA_VERSION;
  /** The tool and its version. */
  tool: { name: "linechat-conformance"; version: string };
  /** The protocol version checked. */
  protocol: "linechat/1";
  /** When the run started (ISO 8601). */
  startedAt: string;
  /** How long the run took. */
  durationMs: number;
  /** The addresses clients connected to. */
  targets: string[];
  /** With `--spawn`: the command, restarts and crashes. */
  spawn: {
    command: string;
    restarts: number;
    crashes: CrashRecord[];
  } | null;
  /** The options that shaped the run. */
  options: {
    level: LevelFilter;
    only: string[];
    skip: string[];
    clients: number;
    timeoutScale: number;
    maxLineBytes: number;
    /** The declared per-client output bound (added in 1.1; always set). */
    maxPendingBytes?: number;
    maxClients: number | null;
    retries: number;
    /** How the harness ends the lines it sends (`--send-eol`). */
    sendEol: "lf" | "crlf";
    /** Whether every case ran whatever the diagnoses (`--keep-going`). */
    keepGoing: boolean;
  };
  /**
   * With `--dialect`: the dialect, the relaxations it made, and the
   * clauses it gave up (their cases are skipped as not applicable).
   */
  dialect?: DialectReport;
  /**
   * The bound the run was given, printed at its start: it ends within
   * `ms`, however the server behaves.
   */
  bound: {
    /** The most the run may take, in ms. */
    ms: number;
    /** Whether `--deadline` set it (else it is the selected cases' sum). */
    fromDeadline: boolean;
  };
  /** The server's latency, measured before the cases; null if it could not be. */
  latency: Latency | null;
  /** Root causes found once, each with the cases it explains. */
  diagnoses: Diagnosis[];
  /** What the run saw of the server as a whole. */
  server: {
    /** How it ended the lines it sent (§2.5). */
    outputTerminator: "crlf" | "lf" | "mixed" | "unknown";
    /** Lines the run's clients received. */
    linesReceived: number;
    /** Of those, lines ended by LF alone. */
    lfOnlyLines: number;
  };
  /** Verdict counts and the exit code. */
  summary: ReportSummary;
  /** Every case's result, in run order. */
  cases: CaseResult[];
}
