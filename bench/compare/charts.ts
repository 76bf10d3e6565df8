/**
 * The comparison's charts: delivered lines/s and p99 against clients
 * (scaling), and bars for saturation throughput, CPU per delivery and
 * memory per connection.
 *
 * @module
 */

import { formatBytes, formatMs } from "../units.ts";
import { cellOf, failureText, firstPoint, metricSpread } from "./cells.ts";
import type { CompareResults } from "./runner.ts";
import {
  barChart,
  type ChartSeries,
  formatTick,
  lineChart,
} from "./svg_chart.ts";

/** A chart file of the report. */
export interface ReportChart {
  /** File name, e.g. `2026-11-23-scaling-p99.svg`. */
  file: string;
  title: string;
  svg: string;
}

/**
 * Draws the report's charts: delivered lines/s and p99 against clients
 * (scaling), and bars for saturation throughput and memory per connection.
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
      const [metric, title, yLabel, yLog] of [
        [
          "deliveredPerSecond",
          "Delivered lines/s against clients (10 lines/s offered)",
          "delivered lines/s",
          true,
        ],
        ["p99", "p99 latency against clients", "p99 latency, ms", true],
      ] as const
    ) {
      const series: ChartSeries[] = results.servers.map((server) => {
        const failedAt: string[] = [];
        const points = scaling.points.flatMap((point) => {
          const cell = cellOf(results, "scaling", point.label, server.id);
          const s = metricSpread(cell, metric);
          if (!s) {
            if (cell.failed.length > 0) {
              failedAt.push(formatTick(point.clients));
            }
            return [];
          }
          return [{ x: point.clients, y: s.median, min: s.min, max: s.max }];
        });
        return {
          name: server.name,
          points,
          note: failedAt.length
            ? `failed at ${failedAt.join(", ")}`
            : undefined,
        };
      });
      charts.push({
        file: `${prefix}-scaling-${metric === "p99" ? "p99" : "delivered"}.svg`,
        title,
        svg: lineChart({
          title,
          xLabel: "clients connected",
          yLabel,
          series,
          xLog: true,
          yLog,
          formatY: metric === "p99" ? (v) => formatMs(v) : formatTick,
        }),
      });
    }
  }
  for (
    const [workload, metric, title, xLabel, format] of [
      [
        "saturation",
        "deliveredPerSecond",
        "Saturation fan-out: delivered lines/s (100 clients, 1 sender)",
        "delivered lines/s (median, whiskers min–max)",
        formatTick,
      ],
      [
        "saturation",
        "serverCpuPerMillion",
        "Server CPU-seconds per million deliveries (saturation)",
        "CPU-s per million deliveries (lower is better)",
        (v: number) => v.toFixed(v >= 10 ? 1 : 2),
      ],
      [
        "idle",
        "rssPerConnection",
        "Memory per idle connection (slope of RSS)",
        "bytes per connection",
        formatBytes,
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
        bars: results.servers.map((server) => {
          const cell = cellOf(results, workload, point, server.id);
          const s = metricSpread(cell, metric);
          return s
            ? { label: server.name, value: s.median, min: s.min, max: s.max }
            : {
              label: server.name,
              failed: cell.runs.length ? failureText(cell) : "not run",
            };
        }),
      }),
    });
  }
  return charts;
}
