/**
 * The comparison's results cut into cells: the runs of one server at one
 * point of one workload, the metrics read from their load reports, and
 * medians with min–max. Every part of the report (tables, goals, charts)
 * reads results through these.
 *
 * @module
 */

import type { LoadReport } from "../load/report.ts";
import { RSS_FIT_MIN_R2 } from "../load/validity.ts";
import { formatBytes, formatMs } from "../units.ts";
import { type Spread, spread } from "../statistics.ts";
import type { CompareResults, RunRecord } from "./runner.ts";
import type { WorkloadMetric } from "./workloads.ts";
import { formatTick } from "./svg_chart.ts";

/** How to read, name and print one metric. */
export interface MetricInfo {
  /** Column heading. */
  label: string;
  /** Which direction is better. */
  better: "higher" | "lower";
  /** Formats a value. */
  format: (value: number) => string;
  /** Reads it from a report (undefined when not measured). */
  get: (report: LoadReport) => number | null | undefined;
}

const ms = (value: number) => formatMs(value);

type Latency = LoadReport["latency"]["corrected"];

/** A latency percentile, absent when no line was measured. */
function latencyMetric(
  label: string,
  from: "corrected" | "uncorrected",
  key: "p50" | "p99" | "p999" | "max",
): MetricInfo {
  return {
    label,
    better: "lower",
    format: ms,
    get: (r) => {
      const latency: Latency = r.latency[from];
      return latency.count ? latency[key] : null;
    },
  };
}

/**
 * Every metric a workload table can show.
 *
 * @example
 * ```ts
 * import { METRICS } from "./cells.ts";
 * console.log(METRICS.p99.label, METRICS.p99.better); // "p99 ms" "lower"
 * ```
 */
export const METRICS: Record<WorkloadMetric, MetricInfo> = {
  deliveredPerSecond: {
    label: "delivered lines/s",
    better: "higher",
    format: formatTick,
    get: (r) => r.window.deliveredPerSecond,
  },
  p50: latencyMetric("p50 ms", "corrected", "p50"),
  p99: latencyMetric("p99 ms", "corrected", "p99"),
  p999: latencyMetric("p99.9 ms", "corrected", "p999"),
  max: latencyMetric("max ms", "corrected", "max"),
  p99Actual: latencyMetric("p99 ms (from actual send)", "uncorrected", "p99"),
  serverCpuPerMillion: {
    label: "server CPU-s per M deliveries",
    better: "lower",
    format: (v) => v.toFixed(v >= 10 ? 1 : 3),
    get: (r) => r.server?.cpuSecondsPerMillionDeliveries,
  },
  serverCpu: {
    label: "server CPU",
    better: "lower",
    format: (v) => `${Math.round(v * 100)} %`,
    get: (r) => r.server?.cpuShare,
  },
  rssPerConnection: {
    label: "memory per connection",
    better: "lower",
    format: formatBytes,
    get: (r) => r.server?.rssPerConnectionBytes,
  },
  rssConnected: {
    label: "RSS, all connected",
    better: "lower",
    format: formatBytes,
    get: (r) => r.server?.rssConnectedBytes || null,
  },
  lastDelivery: {
    label: "one line to all: last delivery ms",
    better: "lower",
    format: ms,
    get: (r) => r.latency.lastDeliveryMs || null,
  },
};

/**
 * Whether a run failed because the load generator itself broke (not the
 * server): such runs count neither for nor against the server.
 *
 * @example
 * ```ts ignore
 * if (isGeneratorError(run)) console.log("not the server's fault");
 * ```
 */
export function isGeneratorError(run: RunRecord): boolean {
  return run.status === "failed" && run.report === null &&
    (run.reason ?? "").startsWith("the load generator failed");
}

/** The runs of one server at one point of one workload. */
export interface Cell {
  /** Runs that measured the server (generator errors left out). */
  runs: RunRecord[];
  ok: RunRecord[];
  failed: RunRecord[];
  /** Ok runs the generator judged invalid (it was the limit). */
  invalid: RunRecord[];
}

/**
 * Collects the runs of `server` at `point` of `workload`.
 *
 * @example
 * ```ts ignore
 * const cell = cellOf(results, "saturation", "100 clients", "ours");
 * console.log(cell.ok.length, cell.failed.length);
 * ```
 */
export function cellOf(
  results: CompareResults,
  workload: string,
  point: string,
  server: string,
): Cell {
  const runs = results.runs.filter((r) =>
    r.workload === workload && r.point === point && r.server === server &&
    !isGeneratorError(r)
  );
  const ok = runs.filter((r) => r.status === "ok");
  return {
    runs,
    ok,
    failed: runs.filter((r) => r.status === "failed"),
    invalid: ok.filter((r) => !r.valid),
  };
}

/**
 * The median and range of `metric` over the cell's successful runs.
 *
 * @example
 * ```ts ignore
 * console.log(metricSpread(cell, "p99")?.median);
 * ```
 */
export function metricSpread(
  cell: Cell,
  metric: WorkloadMetric,
): Spread | undefined {
  const values = cell.ok
    .map((run) => run.report ? METRICS[metric].get(run.report) : undefined)
    .filter((v): v is number => typeof v === "number");
  return spread(values);
}

/**
 * Formats a spread: `median (min–max)`, or just the value for one run.
 *
 * @example
 * ```ts
 * import { formatSpread } from "./cells.ts";
 * console.log(formatSpread({ median: 2, min: 1, max: 3, count: 3 }, String)); // "2 (1–3)"
 * ```
 */
export function formatSpread(
  value: Spread | undefined,
  format: (v: number) => string,
): string {
  if (!value) return "–";
  if (value.count === 1 || value.min === value.max) return format(value.median);
  return `${format(value.median)} (${format(value.min)}–${format(value.max)})`;
}

/**
 * The most common failure reason of a cell, shortened.
 *
 * @example
 * ```ts
 * import { cellOf, failureText } from "./cells.ts";
 * import { results, run, SAT } from "./_testing.ts";
 * const r = results([run("saturation", SAT, "ncat", 1, null, "the server crashed")]);
 * console.log(failureText(cellOf(r, "saturation", SAT, "ncat"))); // "the server crashed"
 * ```
 */
export function failureText(cell: Cell): string {
  const counts = new Map<string, number>();
  for (const run of cell.failed) {
    const reason = (run.reason ?? "failed").replace(/\d[\d,.]*/g, "N");
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  const [first] = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  const example = cell.failed.find((run) =>
    (run.reason ?? "failed").replace(/\d[\d,.]*/g, "N") === first[0]
  );
  return shorten(example?.reason ?? "failed", 90);
}

/**
 * Cuts `text` to at most `max` characters, marking the cut with `…`.
 *
 * @example
 * ```ts
 * import { shorten } from "./cells.ts";
 * console.log(shorten("abcdef", 4)); // "abc…"
 * ```
 */
export function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * A table cell: the metric's median (min–max), `†` when the generator was
 * the limit, `✗` and the reason when every run failed.
 *
 * @example
 * ```ts
 * import { cellOf, cellText } from "./cells.ts";
 * import { report, results, run, SAT } from "./_testing.ts";
 * const r = results([run("saturation", SAT, "ours", 1, report({ delivered: 2e6 }))]);
 * console.log(cellText(cellOf(r, "saturation", SAT, "ours"), "deliveredPerSecond")); // "2M"
 * ```
 */
export function cellText(cell: Cell, metric: WorkloadMetric): string {
  if (cell.runs.length === 0) return "not run";
  if (cell.ok.length === 0) return `✗ ${failureText(cell)}`;
  let text = formatSpread(metricSpread(cell, metric), METRICS[metric].format);
  const fit = metric === "rssPerConnection" ? fitNote(cell) : "";
  if (fit) text += ` (${fit})`;
  return cell.invalid.length > 0 ? `${text} †` : text;
}

/**
 * How good a cell's memory-per-connection slope is: `"poor fit: R² 0.49"`
 * when any run's fit is below {@linkcode RSS_FIT_MIN_R2} (the worst R²),
 * else empty. A slope is only as good as its fit.
 *
 * @example
 * ```ts
 * import { cellOf, fitNote } from "./cells.ts";
 * import { report, results, run } from "./_testing.ts";
 * const r = results([run("idle", "300 clients", "ours", 1, report({ rssPerConnection: 6000, rssFitR2: 0.49 }))]);
 * console.log(fitNote(cellOf(r, "idle", "300 clients", "ours"))); // "poor fit: R² 0.49"
 * ```
 */
export function fitNote(cell: Cell): string {
  const fits = cell.ok.flatMap((run) => {
    const r2 = run.report?.server?.rssFitR2;
    return typeof r2 === "number" ? [r2] : [];
  });
  const worst = Math.min(...fits);
  return fits.length > 0 && worst < RSS_FIT_MIN_R2
    ? `poor fit: R² ${worst.toFixed(2)}`
    : "";
}

/**
 * A table's last cell: how many runs were ok, the usual failure, a note.
 *
 * @example
 * ```ts
 * import { cellOf, runsText } from "./cells.ts";
 * import { report, results, run, SAT } from "./_testing.ts";
 * const r = results([run("saturation", SAT, "ours", 1, report({}))]);
 * console.log(runsText(cellOf(r, "saturation", SAT, "ours"))); // "1/1 ok"
 * ```
 */
export function runsText(cell: Cell): string {
  const parts = [`${cell.ok.length}/${cell.runs.length} ok`];
  if (cell.failed.length > 0 && cell.ok.length > 0) {
    parts.push(`failed: ${failureText(cell)}`);
  }
  for (const note of notesText(cell)) parts.push(shorten(note, 90));
  return parts.join("; ");
}

const NUMBER = /\d[\d,]*(?:\.\d+)?/g;
const SLOT = "\u0000";

/**
 * The cell's notes with their real counts: the same note of several runs
 * once, each number as it was or as its range over the runs, and in how
 * many runs when not all.
 *
 * @example
 * ```ts
 * import { cellOf, notesText } from "./cells.ts";
 * import { report, results, run, SAT } from "./_testing.ts";
 * const runs = [1200, 1250].map((n, i) => ({
 *   ...run("saturation", SAT, "asyncnet", i + 1, report({})),
 *   notes: [`echoed ${n} lines back to their senders (§2.2)`],
 * }));
 * console.log(notesText(cellOf(results(runs), "saturation", SAT, "asyncnet")));
 * // ["echoed 1,200–1,250 lines back to their senders (§2.2)"]
 * ```
 */
export function notesText(cell: Cell): string[] {
  const groups = new Map<string, number[][]>();
  for (const run of cell.runs) {
    for (const note of run.notes) {
      const template = note.replace(NUMBER, SLOT);
      const numbers = [...note.matchAll(NUMBER)].map((m) =>
        Number(m[0].replaceAll(",", ""))
      );
      const lists = groups.get(template) ?? [];
      lists.push(numbers);
      groups.set(template, lists);
    }
  }
  const format = (n: number) =>
    Number.isInteger(n) ? n.toLocaleString("en-US") : String(n);
  return [...groups].map(([template, lists]) => {
    let i = 0;
    const text = template.replaceAll(SLOT, () => {
      const values = lists.map((list) => list[i]);
      i++;
      const min = Math.min(...values);
      const max = Math.max(...values);
      return min === max ? format(min) : `${format(min)}–${format(max)}`;
    });
    return lists.length < cell.runs.length
      ? `${text} (${lists.length} of ${cell.runs.length} runs)`
      : text;
  });
}

/**
 * The median of `metric` over one cell's successful runs.
 *
 * @example
 * ```ts
 * import { median } from "./cells.ts";
 * import { report, results, run, SAT } from "./_testing.ts";
 * const r = results([1, 3, 8].map((n) => run("latency", SAT, "ours", n, report({ p99: n }))));
 * console.log(median(r, "latency", SAT, "ours", "p99")); // 3
 * ```
 */
export function median(
  results: CompareResults,
  workload: string,
  point: string,
  server: string,
  metric: WorkloadMetric,
): number | undefined {
  return metricSpread(cellOf(results, workload, point, server), metric)
    ?.median;
}

/**
 * The label of a workload's first point, if it ran.
 *
 * @example
 * ```ts
 * import { firstPoint } from "./cells.ts";
 * import { results } from "./_testing.ts";
 * console.log(firstPoint(results([]), "idle")); // "10000 clients"
 * ```
 */
export function firstPoint(
  results: CompareResults,
  id: string,
): string | undefined {
  return results.workloads.find((w) => w.id === id)?.points[0]?.label;
}
