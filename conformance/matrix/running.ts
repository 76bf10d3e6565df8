/**
 * Runs the conformance suite against each matrix server, each started
 * afresh through the suite's `--spawn` support, a few servers at a time.
 *
 * Each server's run goes through {@linkcode runConformance} in a child
 * `deno` process of its own (see `_worker.ts`): runs side by side then share
 * no event loop, so one server's slow case cannot delay another's
 * measurements, and a run that hangs can be stopped without the others.
 *
 * @module
 */

import { HarnessError, runConformance } from "../runner.ts";
import type { Report, Verdict } from "../types.ts";
import type { WorkerRequest, WorkerResult } from "./_worker.ts";
import { type MatrixServer, REPO_ROOT } from "./servers.ts";

/**
 * The suite options a matrix run passes to every server's run.
 *
 * @example
 * ```ts
 * import type { MatrixSettings } from "./running.ts";
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
 * import { DEFAULT_SETTINGS } from "./running.ts";
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
 * import type { ServerRun } from "./running.ts";
 * const run: Partial<ServerRun> = { report: null, error: "ncat is not installed" };
 * console.log(run.error);
 * ```
 */
export interface ServerRun {
  /** The server. */
  server: MatrixServer;
  /** The suite's report; `null` when the server was not run or the run failed. */
  report: Report | null;
  /** Why there is no report (unavailable, would not start, timed out). */
  error?: string;
  /** Wall time of this server's run, in ms. */
  durationMs: number;
}

/**
 * A whole matrix run, servers in column order.
 *
 * @example
 * ```ts
 * import type { MatrixRun } from "./running.ts";
 * const run: Partial<MatrixRun> = { concurrency: 2, runs: [] };
 * console.log(run.concurrency);
 * ```
 */
export interface MatrixRun {
  /** When the run started (ISO 8601). */
  startedAt: string;
  /** Wall time of the whole run, in ms. */
  durationMs: number;
  /** The suite options every server ran with. */
  settings: MatrixSettings;
  /** Servers run at the same time. */
  concurrency: number;
  /** One entry per server, in the order the servers were given. */
  runs: ServerRun[];
}

/**
 * Progress of a matrix run, for live display.
 *
 * @example
 * ```ts
 * import type { MatrixProgress } from "./running.ts";
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
 * Options for {@linkcode runServer}.
 *
 * @example
 * ```ts
 * import type { RunServerOptions } from "./running.ts";
 * const options: RunServerOptions = { settings: { clients: 50 } };
 * console.log(options.settings?.clients);
 * ```
 */
export interface RunServerOptions {
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
 * Options for {@linkcode runMatrix}.
 *
 * @example
 * ```ts
 * import type { RunMatrixOptions } from "./running.ts";
 * const options: RunMatrixOptions = { concurrency: 1, settings: { only: ["relay.*"] } };
 * console.log(options.concurrency);
 * ```
 */
export interface RunMatrixOptions extends RunServerOptions {
  /**
   * Servers run at the same time.
   *
   * @default {2}
   */
  concurrency?: number;
  /**
   * A server's run is stopped (and reported as an error) after this long.
   *
   * @default {1200000}
   */
  serverTimeoutMs?: number;
  /**
   * Run each server in a child `deno` process (`true`) or in this one.
   *
   * @default {true}
   */
  isolate?: boolean;
}

/**
 * Completes partial settings with {@linkcode DEFAULT_SETTINGS}.
 *
 * @example
 * ```ts
 * import { resolveSettings } from "./running.ts";
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
 * import { runServer } from "./running.ts";
 * import { matrixServers } from "./servers.ts";
 *
 * const [ours] = await matrixServers({ build: false });
 * const run = await runServer(ours, { settings: { only: ["relay.basic", "relay.no-echo"] } });
 * console.log(run.report?.summary.pass); // 2
 * ```
 *
 * @param server The server to run against.
 * @param options Suite settings and a progress callback.
 * @returns The report, or the reason there is none.
 */
export async function runServer(
  server: MatrixServer,
  options: RunServerOptions = {},
): Promise<ServerRun> {
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
      spawn: server.spawn,
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
 * Runs the suite against each server, `concurrency` at a time (heaviest
 * first), and returns every server's report. Servers that are unavailable
 * get an entry with the reason instead of a report.
 *
 * @example Run one case against both transports of our server
 * ```ts ignore
 * import { runMatrix } from "./running.ts";
 * import { matrixServers, selectServers } from "./servers.ts";
 *
 * const servers = selectServers(await matrixServers({ build: false }), ["ours", "ours-node"]);
 * const run = await runMatrix(servers, { settings: { only: ["relay.basic"] } });
 * console.log(run.runs.map((r) => r.report?.cases[0].verdict)); // [ "pass", "pass" ]
 * ```
 *
 * @param servers The servers, in column order.
 * @param options Suite settings, lanes, isolation and progress.
 * @returns The run, servers in the order given.
 */
export async function runMatrix(
  servers: readonly MatrixServer[],
  options: RunMatrixOptions = {},
): Promise<MatrixRun> {
  const settings = resolveSettings(options.settings);
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const runs = new Array<ServerRun>(servers.length);
  // Heaviest first: the lanes then finish at about the same time.
  const queue = servers.map((server, index) => ({ server, index }))
    .sort((a, b) => (b.server.weight ?? 1) - (a.server.weight ?? 1));
  const lane = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { server, index } = next;
      const run = server.unavailable !== undefined || options.isolate === false
        ? await runServer(server, { ...options, settings })
        : await runIsolated(server, settings, options);
      runs[index] = run;
      options.onProgress?.({
        type: "server-end",
        server: server.id,
        durationMs: run.durationMs,
        error: run.error,
        report: run.report,
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return {
    startedAt,
    durationMs: Math.round(performance.now() - t0),
    settings,
    concurrency,
    runs,
  };
}

async function runIsolated(
  server: MatrixServer,
  settings: MatrixSettings,
  options: RunMatrixOptions,
): Promise<ServerRun> {
  const t0 = performance.now();
  const dir = await Deno.makeTempDir({ prefix: "linechat-matrix-" });
  const request: WorkerRequest = {
    server,
    settings,
    resultPath: `${dir}/result.json`,
  };
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("./_worker.ts", import.meta.url).pathname,
      JSON.stringify(request),
    ],
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timeoutMs = options.serverTimeoutMs ?? 20 * 60_000;
  let timedOut = false;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    // The worker stops its server on SIGTERM; SIGKILL if it does not exit.
    signal(child, "SIGTERM");
    killTimer = setTimeout(() => signal(child, "SIGKILL"), 5000);
  }, timeoutMs);
  const stderr = new Response(child.stderr).text();
  try {
    for await (const line of lines(child.stdout)) {
      try {
        options.onProgress?.(JSON.parse(line) as MatrixProgress);
      } catch {
        // Not a progress line.
      }
    }
    const status = await child.status;
    const durationMs = Math.round(performance.now() - t0);
    if (timedOut) {
      return {
        server,
        report: null,
        error: `the run did not finish within ${timeoutMs} ms and was stopped`,
        durationMs,
      };
    }
    let result: WorkerResult;
    try {
      result = JSON.parse(await Deno.readTextFile(request.resultPath));
    } catch {
      const tail = (await stderr).trim().split("\n").slice(-5).join(" | ");
      return {
        server,
        report: null,
        error: `the suite's process exited (code ${status.code}) without ` +
          `a report: ${tail || "no output"}`,
        durationMs,
      };
    }
    return { server, report: result.report, error: result.error, durationMs };
  } finally {
    clearTimeout(timer);
    clearTimeout(killTimer);
    await stderr.catch(() => "");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

function signal(child: Deno.ChildProcess, name: Deno.Signal): void {
  try {
    child.kill(name);
  } catch {
    // Already gone.
  }
}

async function* lines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let buffered = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    buffered += text;
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
    }
  }
  if (buffered !== "") yield buffered;
}
