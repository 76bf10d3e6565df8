/**
 * Checks servers against the committed expectations: runs the matrix at
 * the expectations' settings, compares, and runs each case that came out
 * differently again (alone, on a fresh server) before calling it a
 * mismatch. The reference servers have races (a crash needs a connect to
 * land during a send), so one odd verdict in a full run is not evidence;
 * a harness that stopped catching a bug gives the wrong verdict every time.
 *
 * @module
 */

import {
  compareExpectations,
  type ExpectationMismatch,
  type Expectations,
} from "./expectations.ts";
import { buildMatrix, type MatrixDocument } from "./json.ts";
import type { KnownServer } from "../../targets/servers.ts";
import { runMatrix, type RunMatrixOptions } from "./running.ts";

/**
 * Options for {@linkcode checkExpectations}.
 *
 * @example
 * ```ts
 * import type { CheckOptions } from "./check.ts";
 * const options: CheckOptions = { rechecks: 2 };
 * console.log(options.rechecks);
 * ```
 */
export interface CheckOptions
  extends Pick<RunMatrixOptions, "onProgress" | "serverTimeoutMs"> {
  /**
   * Times a case that came out unexpectedly is run again; it is a
   * mismatch only if every rerun comes out unexpectedly too.
   *
   * @default {2}
   */
  rechecks?: number;
}

/**
 * What {@linkcode checkExpectations} found.
 *
 * @example
 * ```ts
 * import type { CheckResult } from "./check.ts";
 * const result: Partial<CheckResult> = { mismatches: [], recovered: [] };
 * console.log(result.mismatches?.length);
 * ```
 */
export interface CheckResult {
  /** The full run. */
  doc: MatrixDocument;
  /** Differences that every rerun confirmed. */
  mismatches: ExpectationMismatch[];
  /**
   * Differences of the full run that a rerun did not repeat (timing), with
   * the verdict the rerun gave: worth widening the expectation if frequent.
   */
  recovered: (ExpectationMismatch & { rerun: string })[];
}

/**
 * Runs `servers` at the expectations' settings and compares them with the
 * expectations, rerunning unexpected cases before reporting them.
 *
 * @example Check our server
 * ```ts ignore
 * import { checkExpectations } from "./check.ts";
 * import { loadExpectations } from "./expectations.ts";
 * import { matrixServers } from "./columns.ts";
 *
 * const servers = (await matrixServers({ build: false })).slice(0, 1);
 * const { mismatches } = await checkExpectations(servers, await loadExpectations());
 * console.log(mismatches.length); // 0
 * ```
 *
 * @param servers The servers to check (all must be available).
 * @param expectations The committed expectations.
 * @param options Reruns, timeouts and progress.
 * @returns The run, the confirmed mismatches and the ones reruns cleared.
 */
export async function checkExpectations(
  servers: readonly KnownServer[],
  expectations: Expectations,
  options: CheckOptions = {},
): Promise<CheckResult> {
  const settings = runSettings(expectations);
  const run = await runMatrix(servers, {
    settings,
    concurrency: expectations.settings.concurrency,
    serverTimeoutMs: options.serverTimeoutMs,
    onProgress: options.onProgress,
  });
  return await recheckMismatches(
    servers,
    expectations,
    buildMatrix(run),
    options,
  );
}

/**
 * Compares a finished run with the expectations and runs each case that
 * came out unexpectedly again, `rechecks` times, at the expectations'
 * settings; what every rerun repeats is a mismatch.
 *
 * @example A run that matches needs no reruns
 * ```ts
 * import { recheckMismatches } from "./check.ts";
 * import type { MatrixDocument } from "./json.ts";
 *
 * const doc = {
 *   settings: { only: ["relay.basic"], skip: [] },
 *   servers: [{ id: "ours", status: "ran" }],
 *   cases: [{ id: "relay.basic", verdicts: { ours: { verdict: "pass", message: "ok" } } }],
 * } as unknown as MatrixDocument;
 * const result = await recheckMismatches([], {
 *   schemaVersion: 1,
 *   settings: { clients: 100, retries: 0, timeoutScale: 1, concurrency: 2 },
 *   servers: { ours: { "relay.basic": "pass" } },
 * }, doc);
 * console.log(result.mismatches.length, result.recovered.length); // 0 0
 * ```
 *
 * @param servers The servers of the run.
 * @param expectations The committed expectations.
 * @param doc The finished run.
 * @param options Reruns, timeouts.
 * @returns The run, the confirmed mismatches and the ones reruns cleared.
 */
export async function recheckMismatches(
  servers: readonly KnownServer[],
  expectations: Expectations,
  doc: MatrixDocument,
  options: CheckOptions = {},
): Promise<CheckResult> {
  const settings = runSettings(expectations);
  let pending = compareExpectations(expectations, doc);
  const recovered: CheckResult["recovered"] = [];
  for (let round = 0; round < (options.rechecks ?? 2); round++) {
    const rerunnable = pending.filter((m) =>
      m.kind === "mismatch" && m.caseId !== undefined
    );
    if (rerunnable.length === 0) break;
    const stillPending = pending.filter((m) => !rerunnable.includes(m));
    // One run per server with just its odd cases, servers side by side as
    // in the full run.
    const byServer = Map.groupBy(rerunnable, (m) => m.server);
    const reruns = await Promise.all(
      [...byServer].map(async ([id, list]) => {
        const server = servers.find((s) => s.id === id)!;
        const rerun = await runMatrix([server], {
          settings: { ...settings, only: list.map((m) => m.caseId!) },
          serverTimeoutMs: options.serverTimeoutMs,
        });
        return buildMatrix(rerun);
      }),
    );
    for (const rerunDoc of reruns) {
      const again = compareExpectations(expectations, rerunDoc);
      for (const mismatch of rerunnable) {
        if (mismatch.server !== rerunDoc.servers[0].id) continue;
        const repeated = again.find((m) =>
          m.caseId === mismatch.caseId || m.kind === "server-error"
        );
        if (repeated) {
          stillPending.push(mismatch);
        } else {
          const row = rerunDoc.cases.find((r) => r.id === mismatch.caseId);
          recovered.push({
            ...mismatch,
            rerun: row?.verdicts[mismatch.server].verdict ?? "not-run",
          });
        }
      }
    }
    pending = stillPending;
  }
  return { doc, mismatches: pending, recovered };
}

/** The suite settings the expectations were recorded at. */
function runSettings(expectations: Expectations) {
  const { clients, retries, timeoutScale } = expectations.settings;
  return { clients, retries, timeoutScale };
}
