// Made-up reports and runs for the renderer tests: no server is started.

import { summarize } from "../verdict.ts";
import type { CaseResult, Report, Verdict } from "../types.ts";
import type { MatrixRun, ServerRun } from "./running.ts";
import type { MatrixServer } from "./servers.ts";

/** A case result with the given verdict and plausible everything else. */
export function result(
  id: string,
  verdict: Verdict,
  extra: Partial<CaseResult> = {},
): CaseResult {
  return {
    id,
    area: id.split(".")[0],
    clause: id.startsWith("relay") ? "§2.2" : "§1.1",
    level: verdict === "info" ? "INFO" : "MUST",
    requirement: `requirement of ${id}`,
    verdict,
    counted: verdict === "fail",
    message: verdict === "pass" ? "ok" : `${id} went ${verdict}`,
    findings: [],
    measurements: {},
    durationMs: 5,
    attempts: verdict === "fail" ? 2 : 1,
    ...extra,
  };
}

/** A report holding `cases`, with `crashes` blamed on the given case ids. */
export function report(
  cases: CaseResult[],
  crashes: string[] = [],
): Report {
  return {
    schemaVersion: 1,
    tool: { name: "linechat-conformance", version: "1.0.0" },
    protocol: "linechat/1",
    startedAt: new Date(0).toISOString(),
    durationMs: 1234,
    targets: ["127.0.0.1:1"],
    spawn: {
      command: "server {port}",
      restarts: crashes.length,
      crashes: crashes.map((caseId) => ({
        caseId,
        code: 1,
        signal: null,
        outputTail: `Error: unhandled exception in ${caseId} <boom>`,
      })),
    },
    options: {
      level: "all",
      only: [],
      skip: [],
      clients: 100,
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

/** A server entry for a run. */
export function server(
  id: string,
  extra: Partial<MatrixServer> = {},
): MatrixServer {
  return {
    id,
    name: `Server ${id}`,
    description: `the ${id} server`,
    kind: "reference",
    spawn: `${id} {port}`,
    tools: [],
    ...extra,
  };
}

/** A run of the given servers (a `null` report means it did not run). */
export function matrixRun(
  runs: [MatrixServer, Report | null, string?][],
  only: string[] = ["relay.basic", "relay.no-echo", "framing.lf"],
): MatrixRun {
  return {
    startedAt: new Date(0).toISOString(),
    durationMs: 60_000,
    settings: {
      only,
      skip: [],
      clients: 100,
      retries: 1,
      timeoutScale: 1,
      verbose: false,
    },
    concurrency: 2,
    runs: runs.map(([s, r, error]): ServerRun => ({
      server: s,
      report: r,
      error,
      durationMs: 1234,
    })),
  };
}
