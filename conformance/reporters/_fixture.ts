// A small report with every verdict, evidence and a trace: the reporters'
// tests format it.

import type { CaseResult, Report } from "../types.ts";
import { summarize } from "../verdict.ts";

function result(
  partial: Partial<CaseResult> & Pick<CaseResult, "id" | "verdict">,
): CaseResult {
  return {
    area: partial.id.split(".")[0],
    clause: "§2.1",
    level: "MUST",
    requirement: "A requirement",
    counted: partial.verdict === "fail" || partial.verdict === "flaky" ||
      partial.verdict === "non-strict",
    message: "ok",
    findings: [],
    measurements: {},
    durationMs: 12,
    attempts: 1,
    ...partial,
  };
}

/** A report with one case of each verdict. */
export function fixtureReport(): Report {
  const cases: CaseResult[] = [
    result({ id: "relay.basic", verdict: "pass" }),
    result({
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
    result({
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
    result({
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
    result({
      id: "limits.largest-line",
      clause: "§4.1",
      level: "INFO",
      verdict: "info",
      message: "largest line relayed intact: 65536 bytes",
      measurements: { largestLineBytes: 65536 },
    }),
    result({
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
  return {
    schemaVersion: 1,
    tool: { name: "linechat-conformance", version: "1.0.0" },
    protocol: "linechat/1",
    startedAt: "2026-01-01T00:00:00.000Z",
    durationMs: 1234,
    targets: ["127.0.0.1:7687"],
    spawn: {
      command: "deno run -A server/main.ts --port {port}",
      restarts: 1,
      crashes: [{
        caseId: "relay.no-echo",
        code: 1,
        signal: null,
        outputTail: "boom",
      }],
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
    },
    server: { outputTerminator: "crlf", linesReceived: 10, lfOnlyLines: 0 },
    summary: summarize(cases),
    cases,
  };
}
