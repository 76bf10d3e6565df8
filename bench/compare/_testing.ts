/**
 * Fixtures for the report's tests: load reports with only the fields the
 * report reads, run records and whole results.
 *
 * @module
 */

import type { LoadReport } from "../load/report.ts";
import type { CompareResults, RunRecord } from "./runner.ts";
import { WORKLOADS } from "./workloads.ts";

/**
 * The label of the saturation and latency workloads' one point.
 *
 * @example
 * ```ts
 * import { SAT } from "./_testing.ts";
 * console.log(SAT); // "100 clients"
 * ```
 */
export const SAT = "100 clients";

/**
 * A load report with just the fields the summary reads.
 *
 * @example
 * ```ts
 * import { report } from "./_testing.ts";
 * console.log(report({ delivered: 5 }).window.deliveredPerSecond); // 5
 * ```
 */
export function report(fields: {
  delivered?: number;
  p99?: number;
  cpuPerMillion?: number;
  rssPerConnection?: number;
  valid?: boolean;
  /** CPU seconds the server used in the window. */
  cpuSeconds?: number;
  /** R² of the memory-per-connection fit. */
  rssFitR2?: number;
  /** No server figures at all (a server of several processes). */
  noServer?: boolean;
}): LoadReport {
  const latency = {
    count: 100,
    mean: 1,
    p50: 1,
    p90: 1,
    p99: fields.p99 ?? 1,
    p999: 1,
    max: 1,
  };
  return {
    window: { deliveredPerSecond: fields.delivered ?? 0 },
    latency: { corrected: latency, uncorrected: latency, lastDeliveryMs: 5 },
    server: fields.noServer ? null : {
      cpuSeconds: fields.cpuSeconds ?? 1,
      cpuSecondsPerMillionDeliveries: fields.cpuPerMillion ?? null,
      cpuShare: 0.5,
      rssPerConnectionBytes: fields.rssPerConnection ?? null,
      rssFitR2: fields.rssFitR2 ?? null,
      rssConnectedBytes: 1,
    },
  } as unknown as LoadReport;
}

/**
 * One run's record: ok with `r`, or failed with the reason `failed`.
 *
 * @example
 * ```ts
 * import { run } from "./_testing.ts";
 * console.log(run("idle", "300 clients", "ours", 1, null, "crashed").status); // "failed"
 * ```
 */
export function run(
  workload: string,
  point: string,
  server: string,
  round: number,
  r: LoadReport | null,
  failed?: string,
): RunRecord {
  return {
    round,
    workload,
    point,
    server,
    status: failed ? "failed" : "ok",
    reason: failed ?? null,
    notes: [],
    valid: true,
    invalidReasons: [],
    seconds: 1,
    machineBusyBefore: null,
    report: r,
  };
}

/**
 * Results of `runs` against ours, book (the baseline) and ncat, with
 * every workload.
 *
 * @example
 * ```ts
 * import { results } from "./_testing.ts";
 * console.log(results([]).servers.map((s) => s.id)); // ["ours", "book", "ncat"]
 * ```
 */
export function results(runs: RunRecord[]): CompareResults {
  return {
    version: 1,
    date: "2026-01-02",
    startedAt: "2026-01-02T00:00:00Z",
    finishedAt: "2026-01-02T00:30:00Z",
    quick: false,
    rounds: 3,
    machine: { cpus: 2 },
    servers: ["ours", "book", "ncat"].map((id) => ({
      id,
      name: id,
      description: "",
      command: `${id} {port}`,
      baseline: id === "book",
    })),
    missing: [],
    workloads: WORKLOADS.map((w) => ({
      ...w,
      loadCommands: Object.fromEntries(
        w.points.map((p) => [p.label, `deno task load ${p.label}`]),
      ),
    })),
    runs,
  };
}
