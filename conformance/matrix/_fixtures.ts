// Made-up servers and runs for the matrix's renderer tests, on the shared
// report builder (../_fixtures.ts): no server is started.

import type { KnownServer } from "../../targets/servers.ts";
import { fixtureReport, fixtureResult } from "../_fixtures.ts";
import type { CaseResult, Report, Verdict } from "../types.ts";
import type { MatrixRun } from "./running.ts";
import type { MatrixServerRun } from "./server_run.ts";

/**
 * A case result with the given verdict and plausible everything else.
 *
 * @example
 * ```ts
 * import { matrixResult } from "./_fixtures.ts";
 * console.log(matrixResult("relay.no-echo", "fail").message); // "relay.no-echo went fail"
 * ```
 */
export function matrixResult(
  id: string,
  verdict: Verdict,
  extra: Partial<CaseResult> = {},
): CaseResult {
  return fixtureResult({
    id,
    verdict,
    clause: id.startsWith("relay") ? "§2.2" : "§1.1",
    level: verdict === "info" ? "INFO" : "MUST",
    requirement: `requirement of ${id}`,
    counted: verdict === "fail",
    message: verdict === "pass" ? "ok" : `${id} went ${verdict}`,
    durationMs: 5,
    attempts: verdict === "fail" ? 2 : 1,
    ...extra,
  });
}

/**
 * A report holding `cases`, with `crashes` blamed on the given case ids.
 *
 * @example
 * ```ts
 * import { matrixReport, matrixResult } from "./_fixtures.ts";
 * console.log(matrixReport([matrixResult("relay.basic", "pass")], ["relay.basic"]).spawn?.crashes.length); // 1
 * ```
 */
export function matrixReport(
  cases: CaseResult[],
  crashes: string[] = [],
): Report {
  const report = fixtureReport(cases, {
    targets: ["127.0.0.1:1"],
    crashes: crashes.map((caseId) => ({
      caseId,
      code: 1,
      signal: null,
      outputTail: `Error: unhandled exception in ${caseId} <boom>`,
    })),
  });
  report.spawn!.command = "server {port}";
  report.options.clients = 100;
  return report;
}

/**
 * A server entry for a run.
 *
 * @example
 * ```ts
 * import { fakeServer } from "./_fixtures.ts";
 * console.log(fakeServer("a").command); // "a {port}"
 * ```
 */
export function fakeServer(
  id: string,
  extra: Partial<KnownServer> = {},
): KnownServer {
  return {
    id,
    name: `Server ${id}`,
    description: `the ${id} server`,
    kind: "reference",
    command: `${id} {port}`,
    tools: [],
    ...extra,
  };
}

/**
 * A run of the given servers (a `null` report means it did not run).
 *
 * @example
 * ```ts
 * import { matrixRun, fakeServer } from "./_fixtures.ts";
 * console.log(matrixRun([[fakeServer("a"), null, "not installed"]]).runs[0].error); // "not installed"
 * ```
 */
export function matrixRun(
  runs: [KnownServer, Report | null, string?][],
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
    runs: runs.map(([s, r, error]): MatrixServerRun => ({
      server: s,
      report: r,
      error,
      durationMs: 1234,
    })),
  };
}
