/**
 * Runs the conformance suite against each matrix server, a few servers at
 * a time, heaviest first.
 *
 * Each server's run goes through `runMatrixServer` (`server_run.ts`) in a child
 * `deno` process of its own (`_worker.ts`): runs side by side then share no
 * event loop, so one server's slow case cannot delay another's
 * measurements, and a run that hangs can be stopped without the others.
 *
 * @module
 */

import { type KnownServer, REPO_ROOT } from "../../targets/servers.ts";
import {
  type MatrixProgress,
  type MatrixServerRun,
  type MatrixSettings,
  resolveSettings,
  runMatrixServer,
  type RunMatrixServerOptions,
  type WorkerRequest,
  type WorkerResult,
} from "./server_run.ts";

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
  runs: MatrixServerRun[];
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
export interface RunMatrixOptions extends RunMatrixServerOptions {
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
 * Runs the suite against each server, `concurrency` at a time (heaviest
 * first), and returns every server's report. Servers that are unavailable
 * get an entry with the reason instead of a report.
 *
 * @example Run one case against both transports of our server
 * ```ts ignore
 * import { runMatrix } from "./running.ts";
 * import { matrixServers } from "./columns.ts";
 *
 * const servers = (await matrixServers({ build: false })).slice(0, 2);
 * const run = await runMatrix(servers, { settings: { only: ["relay.basic"] } });
 * console.log(run.runs.map((r) => r.report?.cases[0].verdict)); // [ "pass", "pass" ]
 * ```
 *
 * @param servers The servers, in column order.
 * @param options Suite settings, lanes, isolation and progress.
 * @returns The run, servers in the order given.
 */
export async function runMatrix(
  servers: readonly KnownServer[],
  options: RunMatrixOptions = {},
): Promise<MatrixRun> {
  const settings = resolveSettings(options.settings);
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const runs = new Array<MatrixServerRun>(servers.length);
  // Heaviest first: the lanes then finish at about the same time.
  const queue = servers.map((server, index) => ({ server, index }))
    .sort((a, b) => (b.server.weight ?? 1) - (a.server.weight ?? 1));
  const lane = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { server, index } = next;
      const run = server.unavailable !== undefined || options.isolate === false
        ? await runMatrixServer(server, { ...options, settings })
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
  server: KnownServer,
  settings: MatrixSettings,
  options: RunMatrixOptions,
): Promise<MatrixServerRun> {
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
