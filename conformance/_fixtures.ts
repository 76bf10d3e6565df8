/**
 * Made-up case results and reports for the tests of everything that reads
 * reports (the reporters, the matrix): no server is started. One builder
 * for all of them; each test file sets what it looks at.
 *
 * @module
 */

import type { CaseResult, CrashRecord, Report } from "./types.ts";
import { summarize } from "./verdict.ts";

/**
 * A case result: `id` and `verdict` given, plausible everything else
 * (area from the id, §2.1, MUST, counted when it fails the run at `all`).
 *
 * @example
 * ```ts
 * import { fixtureResult } from "./_fixtures.ts";
 * console.log(fixtureResult({ id: "relay.basic", verdict: "pass" }).area); // "relay"
 * ```
 */
export function fixtureResult(
  fields: Partial<CaseResult> & Pick<CaseResult, "id" | "verdict">,
): CaseResult {
  return {
    area: fields.id.split(".")[0],
    clause: "§2.1",
    level: "MUST",
    requirement: "A requirement",
    counted: fields.verdict === "fail" || fields.verdict === "flaky" ||
      fields.verdict === "non-strict" || fields.verdict === "timeout",
    message: "ok",
    findings: [],
    measurements: {},
    durationMs: 12,
    attempts: 1,
    ...fields,
  };
}

/**
 * A report of `cases` (summary counted from them) with `crashes` of a
 * spawned server; other fields as given, or plausible.
 *
 * @example
 * ```ts
 * import { fixtureReport, fixtureResult } from "./_fixtures.ts";
 * const report = fixtureReport([fixtureResult({ id: "relay.basic", verdict: "fail" })]);
 * console.log(report.summary.fail, report.spawn?.restarts); // 1 0
 * ```
 */
export function fixtureReport(
  cases: CaseResult[],
  fields: Partial<Report> & { crashes?: CrashRecord[] } = {},
): Report {
  const { crashes = [], ...rest } = fields;
  return {
    schemaVersion: 2,
    tool: { name: "linechat-conformance", version: "1.0.0" },
    protocol: "linechat/1",
    startedAt: new Date(0).toISOString(),
    durationMs: 1234,
    targets: ["127.0.0.1:7687"],
    spawn: {
      command: "deno run -A server/main.ts --port {port}",
      restarts: crashes.length,
      crashes,
    },
    options: {
      level: "all",
      only: [],
      skip: [],
      clients: 500,
      timeoutScale: 1,
      maxLineBytes: 65536,
      maxClients: null,
      retries: 1,
      sendEol: "lf",
      keepGoing: false,
    },
    bound: { ms: 360_000, fromDeadline: true },
    latency: { medianMs: 0.3, p99Ms: 0.9, rounds: 20, waitScale: 1 },
    diagnoses: [],
    server: { outputTerminator: "crlf", linesReceived: 10, lfOnlyLines: 0 },
    summary: summarize(cases),
    cases,
    ...rest,
  };
}

/**
 * The reporters' report: one case of each verdict, evidence with escapes
 * and markup in it, a trace, server output and a crash.
 *
 * @example
 * ```ts
 * import { everyVerdictReport } from "./_fixtures.ts";
 * console.log(everyVerdictReport().cases.map((c) => c.verdict).join(" "));
 * // "pass fail non-strict skipped info timeout flaky"
 * ```
 */
export function everyVerdictReport(): Report {
  const cases: CaseResult[] = [
    fixtureResult({ id: "relay.basic", verdict: "pass" }),
    fixtureResult({
      id: "relay.no-echo",
      clause: "§2.2",
      verdict: "fail",
      message: `A received its own line back <script>&"'`,
      findings: [{
        severity: "fail",
        clause: "§2.2",
        message: `A received its own line back <script>&"'`,
        expected: { A: [] },
        received: { A: ["echo probe \\x00", "… 3 more lines"] },
        data: { lines: 1 },
      }],
      trace: [
        {
          t: 0.5,
          client: "A",
          event: "send",
          data: "echo probe\\n",
          bytes: 11,
        },
        {
          t: 1.25,
          client: "A",
          event: "recv",
          data: "echo probe",
          bytes: 10,
          terminator: "crlf",
        },
        {
          t: 2,
          client: "harness",
          event: "note",
          data: "fail: A received its own line back",
        },
      ],
      serverOutput: "listening\n",
    }),
    fixtureResult({
      id: "limits.over-limit-policy",
      clause: "§4.4",
      level: "SHOULD",
      verdict: "non-strict",
      message: "relayed in pieces",
      findings: [{
        severity: "non-strict",
        clause: "§4.3",
        message: "relayed in pieces",
      }],
    }),
    fixtureResult({
      id: "limits.server-full",
      clause: "§4.8",
      level: "SHOULD",
      verdict: "skipped",
      message: "needs --max-clients N",
      findings: [{
        severity: "skip",
        clause: "§4.8",
        message: "needs --max-clients N",
      }],
    }),
    fixtureResult({
      id: "limits.largest-line",
      clause: "§4.1",
      level: "INFO",
      verdict: "info",
      message: "largest line relayed intact: 65536 bytes",
      measurements: { largestLineBytes: 65536 },
    }),
    fixtureResult({
      id: "slow-consumer.others-unaffected",
      clause: "§4.6",
      verdict: "timeout",
      message: "the case reached its deadline of 1.5 min before it could judge",
      findings: [{
        severity: "fail",
        clause: "§4.6",
        message:
          "the case reached its deadline of 1.5 min before it could judge",
      }],
    }),
    fixtureResult({
      id: "disconnect.churn",
      clause: "§5.2",
      verdict: "flaky",
      attempts: 2,
      message: "lines held up",
      findings: [{
        severity: "fail",
        clause: "§5.1",
        message: "lines held up",
      }],
    }),
  ];
  return fixtureReport(cases, {
    startedAt: "2026-01-01T00:00:00.000Z",
    crashes: [{
      caseId: "relay.no-echo",
      code: 1,
      signal: null,
      outputTail: "boom",
    }],
  });
}
