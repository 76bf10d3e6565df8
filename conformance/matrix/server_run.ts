/**
 * One server's part of a matrix run: the suite (`runConformance`) against
 * one server of the registry, started afresh through `--spawn` in the
 * repository root, with the matrix's settings and progress events. The
 * matrix runs it in a child process of its own (`_worker.ts`, which reads a
 * {@linkcode WorkerRequest} and writes a {@linkcode WorkerResult}) or in
 * this one.
 *
 * @module
 */

import { type KnownServer, REPO_ROOT } from "../../targets/servers.ts";
import { HarnessError } from "../run_options.ts";
import { runConformance } from "../runner.ts";
import type { Report, Verdict } from "../types.ts";

/**
 * The suite options a matrix run passes to every server's run.
 *
 * @example
 * ```ts
 * import type { MatrixSettings } from "./server_run.ts";
 * const settings: MatrixSettings = { only: [], skip: [], clients: 100, retries: 1, timeoutScale: 1, verbose: false };
 * console.log(settings.clients);
 * ```
 */
export interface MatrixSettings {
  /** Globs of case ids (or `§` clauses) to run; all when empty. */
  only: string[];
  /** Globs of case ids (or `§` clauses) not to run. */
  skip: string[];
  /** Clients connected at once in `limits.many-clients`. */
  clients: number;
  /** Times a failing case is run again (a pass then makes it `flaky`). */
  retries: number;
  /** Multiplies every timeout of the suite. */
  timeoutScale: number;
  /** Keep the wire trace of passing cases too. */
  verbose: boolean;
}

/**
 * The suite's defaults, which `deno task matrix` uses unless told otherwise.
 *
 * @example
 * ```ts
 * import { DEFAULT_SETTINGS } from "./server_run.ts";
 * console.log(DEFAULT_SETTINGS.clients); // 500
 * ```
 */
export const DEFAULT_SETTINGS: Readonly<MatrixSettings> = Object.freeze({
  only: [],
  skip: [],
  clients: 500,
  retries: 1,
  timeoutScale: 1,
  verbose: false,
});

/**
 * One server's part of a matrix run: its suite report, or why there is none.
 *
 * @example
 * ```ts
 * import type { MatrixServerRun } from "./server_run.ts";
 * const run: Partial<MatrixServerRun> = { report: null, error: "ncat is not installed" };
 * console.log(run.error);
 * ```
 */
export interface MatrixServerRun {
  /** The server. */
  server: KnownServer;
  /** The suite's report; `null` when the server was not run or the run failed. */
  report: Report | null;
  /** Why there is no report (unavailable, would not start, timed out). */
  error?: string;
  /** Wall time of this server's run, in ms. */
  durationMs: number;
}

/**
 * Progress of a matrix run, for live display.
 *
 * @example
 * ```ts
 * import type { MatrixProgress } from "./server_run.ts";
 * const event: MatrixProgress = { type: "server-start", server: "ours", cases: 3 };
 * console.log(event.type);
 * ```
 */
export type MatrixProgress =
  | { type: "server-start"; server: string; cases: number }
  | {
    type: "case-end";
    server: string;
    index: number;
    total: number;
    id: string;
    verdict: Verdict;
    durationMs: number;
    message: string;
  }
  | { type: "note"; server: string; message: string }
  | {
    type: "server-end";
    server: string;
    durationMs: number;
    error?: string;
    report: Report | null;
  };

/**
 * Options for {@linkcode runMatrixServer}.
 *
 * @example
 * ```ts
 * import type { RunMatrixServerOptions } from "./server_run.ts";
 * const options: RunMatrixServerOptions = { settings: { clients: 50 } };
 * console.log(options.settings?.clients);
 * ```
 */
export interface RunMatrixServerOptions {
  /**
   * Suite options; missing ones take {@linkcode DEFAULT_SETTINGS}.
   *
   * @default {DEFAULT_SETTINGS}
   */
  settings?: Partial<MatrixSettings>;
  /** Called as the run progresses. */
  onProgress?: (event: MatrixProgress) => void;
}

/**
 * Completes partial settings with {@linkcode DEFAULT_SETTINGS}.
 *
 * @example
 * ```ts
 * import { resolveSettings } from "./server_run.ts";
 * console.log(resolveSettings({ clients: 100 }).retries); // 1
 * ```
 */
export function resolveSettings(
  settings: Partial<MatrixSettings> = {},
): MatrixSettings {
  return {
    only: [...(settings.only ?? DEFAULT_SETTINGS.only)],
    skip: [...(settings.skip ?? DEFAULT_SETTINGS.skip)],
    clients: settings.clients ?? DEFAULT_SETTINGS.clients,
    retries: settings.retries ?? DEFAULT_SETTINGS.retries,
    timeoutScale: settings.timeoutScale ?? DEFAULT_SETTINGS.timeoutScale,
    verbose: settings.verbose ?? DEFAULT_SETTINGS.verbose,
  };
}

/**
 * Runs the suite against one server in this process, starting it through
 * `--spawn` in the repository root.
 *
 * @example Run two cases against our server
 * ```ts ignore
 * import { runMatrixServer } from "./server_run.ts";
 * import { matrixServers } from "./columns.ts";
 *
 * const [ours] = await matrixServers({ build: false });
 * const run = await runMatrixServer(ours, { settings: { only: ["relay.basic", "relay.no-echo"] } });
 * console.log(run.report?.summary.pass); // 2
 * ```
 *
 * @param server The server to run against.
 * @param options Suite settings and a progress callback.
 * @returns The report, or the reason there is none.
 */
export async function runMatrixServer(
  server: KnownServer,
  options: RunMatrixServerOptions = {},
): Promise<MatrixServerRun> {
  const settings = resolveSettings(options.settings);
  const progress = options.onProgress ?? (() => {});
  if (server.unavailable !== undefined) {
    return { server, report: null, error: server.unavailable, durationMs: 0 };
  }
  const t0 = performance.now();
  let report: Report | null = null;
  let error: string | undefined;
  try {
    report = await runConformance({
      spawn: server.command,
      cwd: REPO_ROOT,
      only: settings.only,
      skip: settings.skip,
      clients: settings.clients,
      retries: settings.retries,
      timeoutScale: settings.timeoutScale,
      verbose: settings.verbose,
      maxClients: server.maxClients,
      onProgress(event) {
        if (event.type === "start") {
          progress({
            type: "server-start",
            server: server.id,
            cases: event.total,
          });
        } else if (event.type === "case-end") {
          progress({
            type: "case-end",
            server: server.id,
            index: event.index,
            total: event.total,
            id: event.result.id,
            verdict: event.result.verdict,
            durationMs: event.result.durationMs,
            message: event.result.message,
          });
        } else if (event.type === "server") {
          progress({ type: "note", server: server.id, message: event.message });
        }
      },
    });
  } catch (caught) {
    if (!(caught instanceof HarnessError)) throw caught;
    error = caught.message;
  }
  return {
    server,
    report,
    error,
    durationMs: Math.round(performance.now() - t0),
  };
}

/**
 * What `_worker.ts` reads from its argument (as JSON).
 *
 * @example
 * ```ts ignore
 * const request: WorkerRequest = { server, settings, resultPath: "/tmp/x/result.json" };
 * ```
 */
export interface WorkerRequest {
  /** The server to run against. */
  server: KnownServer;
  /** The suite's settings. */
  settings: MatrixSettings;
  /** Where the worker writes its {@linkcode WorkerResult} as JSON. */
  resultPath: string;
}

/**
 * What `_worker.ts` writes to the request's `resultPath`.
 *
 * @example
 * ```ts
 * import type { WorkerResult } from "./server_run.ts";
 * const result: WorkerResult = { report: null, error: "ncat is not installed" };
 * console.log(result.error);
 * ```
 */
export interface WorkerResult {
  /** The suite's report, or `null`. */
  report: Report | null;
  /** Why there is no report. */
  error?: string;
}
