/**
 * The comparison's charts: p99 and server CPU per delivery against
 * clients (scaling: the delivered rate is the offered one for every
 * server, so it would draw seven lines on top of each other), and bars
 * for saturation throughput, CPU per delivery and memory per connection.
 * A server whose runs failed is marked failed; one whose runs went well
 * but did not give the figure (no single server process to measure) is
 * marked "not measured".
 *
 * @module
 */

import { type Spread, spread } from "../statistics.ts";
import { formatBytes, formatMs } from "../units.ts";
import {
  type Cell,
  cellOf,
  failureText,
  firstPoint,
  metricSpread,
} from "./cells.ts";
import type { CompareResults } from "./runner.ts";
import {
  barChart,
  type ChartSeries,
  formatTick,
  lineChart,
} from "./svg_chart.ts";

/**
 * Least server CPU time a run must have measured in its window for its CPU
 * per delivery to be drawn, s: `/proc` counts in 10 ms clock ticks, so
 * below 0.1 s a tick more or less is over 10 %.
 *
 * @example
 * ```ts
 * import { MIN_CHARTED_CPU_SECONDS } from "./charts.ts";
 * console.log(MIN_CHARTED_CPU_SECONDS); // 0.1
 * ```
 */
export const MIN_CHARTED_CPU_SECONDS = 0.1;

/** CPU per delivery over a cell's runs that measured enough CPU to tell. */
function cpuPerDelivery(cell: Cell): Spread | undefined {
  return spread(
    cell.ok.flatMap((run) => {
      const server = run.report?.server;
      const value = server?.cpuSecondsPerMillionDeliveries;
      return typeof value === "number" &&
          (server?.cpuSeconds ?? 0) >= MIN_CHARTED_CPU_SECONDS
        ? [value]
        : [];
    }),
  );
}

/** A chart file of the report. */
export interface ReportChart {
  /** File name, e.g. `2026-11-23-scaling-p99.svg`. */
  file: string;
  title: string;
  svg: string;
}

/**
 * Draws the report's charts: p99 and CPU per delivery against clients
 * (scaling), and bars for saturation throughput, CPU per delivery and
 * memory per connection.
 *
 * @example
 * ```ts ignore
 * for (const chart of renderCharts(results, "2026-11-23")) await Deno.writeTextFile(chart.file, chart.svg);
 * ```
 */
export function renderCharts(
  results: CompareResults,
  prefix: string,
): ReportChart[] {
  const charts: ReportChart[] = [];
  const scaling = results.workloads.find((w) => w.id === "scaling");
  if (scaling) {
    for (
      const [metric, file, title, yLabel, formatY] of [
        [
          "p99",
          "p99",
          "p99 latency against clients",
          "p99 latency, ms",
          (v: number) => formatMs(v),
        ],
        [
          "serverCpuPerMillion",
          "cpu",
          "Server CPU-seconds per million deliveries against clients",
          "CPU-s per million deliveries (≥ 0.1 CPU-s measured)",
          formatTick,
        ],
      ] as const
    ) {
      const series: ChartSeries[] = results.servers.map((server) => {
        const failedAt: string[] = [];
        const unmeasuredAt: string[] = [];
        const tooLittleAt: number[] = [];
        const points = scaling.points.flatMap((point) => {
          const cell = cellOf(results, "scaling", point.label, server.id);
          const s = metric === "serverCpuPerMillion"
            ? cpuPerDelivery(cell)
            : metricSpread(cell, metric);
          if (!s) {
            if (
              cell.ok.length > 0 &&
              cell.ok.every((run) => !run.report?.server)
            ) unmeasuredAt.push(formatTick(point.clients));
            else if (cell.ok.length > 0) tooLittleAt.push(point.clients);
            else if (cell.failed.length > 0) {
              failedAt.push(formatTick(point.clients));
            }
            return [];
          }
          return [{ x: point.clients, y: s.median, min: s.min, max: s.max }];
        });
        return {
          name: server.name,
          points,
          ...(failedAt.length
            ? { note: `failed at ${failedAt.join(", ")}` }
            : unmeasuredAt.length
            ? { note: "not measured", noteIsFailure: false }
            : tooLittleAt.length
            ? {
              note: `< ${MIN_CHARTED_CPU_SECONDS} CPU-s at ${
                tooLittleAt.map(formatTick).join(", ")
              }`,
              noteIsFailure: false,
            }
            : {}),
        };
      });
      // A chart with no point, and nothing failed or unmeasured, says
      // nothing (a --quick run's CPU per delivery: every window too short
      // to tell): leave it out.
      if (
        series.every((line) =>
          line.points.length === 0 && !line.note?.startsWith("failed") &&
          line.note !== "not measured"
        )
      ) continue;
      charts.push({
        file: `${prefix}-scaling-${file}.svg`,
        title,
        svg: lineChart({
          title,
          xLabel: "clients connected",
          yLabel,
          series,
          xLog: true,
          yLog: true,
          formatY,
        }),
      });
    }
  }
  for (
    const [workload, metric, title, xLabel, format, tickUnit] of [
      [
        "saturation",
        "deliveredPerSecond",
        "Saturation fan-out: delivered lines/s (100 clients, 1 sender)",
        "delivered lines/s (median, whiskers min–max)",
        formatTick,
        1,
      ],
      [
        "saturation",
        "serverCpuPerMillion",
        "Server CPU-seconds per million deliveries (saturation)",
        "CPU-s per million deliveries (lower is better)",
        (v: number) => v.toFixed(v >= 10 ? 1 : 2),
        1,
      ],
      [
        "idle",
        "rssPerConnection",
        "Memory per idle connection (slope of RSS)",
        "bytes per connection",
        formatBytes,
        1024,
      ],
    ] as const
  ) {
    const point = firstPoint(results, workload);
    if (point === undefined) continue;
    charts.push({
      file: `${prefix}-${workload}-${metric}.svg`,
      title,
      svg: barChart({
        title,
        xLabel,
        format,
        tickUnit,
        bars: results.servers.map((server) => {
          const cell = cellOf(results, workload, point, server.id);
          const s = metricSpread(cell, metric);
          if (s) {
            return {
              label: server.name,
              value: s.median,
              min: s.min,
              max: s.max,
            };
          }
          if (cell.runs.length === 0) {
            return { label: server.name, note: "not run" };
          }
          return cell.ok.length > 0
            ? { label: server.name, note: "not measured" }
            : { label: server.name, failed: failureText(cell) };
        }),
      }),
    });
  }
  return charts;
}
