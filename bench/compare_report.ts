/**
 * Turns comparison results into the report: medians with min–max per
 * server and workload, ratios to the "Nim in Action" design, the issue's
 * goals checked, failures listed, and SVG charts.
 *
 * @module
 */

import type { LoadReport } from "./load_generator.ts";
import type { CompareResults, RunRecord } from "./compare_runner.ts";
import type { WorkloadMetric } from "./compare_workloads.ts";
import { formatBytes, formatMs } from "./load_cli.ts";
import { ratio, type Spread, spread } from "./statistics.ts";
import {
  barChart,
  type ChartSeries,
  formatTick,
  lineChart,
} from "./svg_chart.ts";

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

/** Every metric a workload table can show. */
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

/** Formats a spread: `median (min–max)`, or just the value for one run. */
export function formatSpread(
  value: Spread | undefined,
  format: (v: number) => string,
): string {
  if (!value) return "–";
  if (value.count === 1 || value.min === value.max) return format(value.median);
  return `${format(value.median)} (${format(value.min)}–${format(value.max)})`;
}

/** The most common failure reason of a cell, shortened. */
function failureText(cell: Cell): string {
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

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function cellText(cell: Cell, metric: WorkloadMetric): string {
  if (cell.runs.length === 0) return "not run";
  if (cell.ok.length === 0) return `✗ ${failureText(cell)}`;
  const text = formatSpread(metricSpread(cell, metric), METRICS[metric].format);
  return cell.invalid.length > 0 ? `${text} †` : text;
}

function runsText(cell: Cell): string {
  const parts = [`${cell.ok.length}/${cell.runs.length} ok`];
  if (cell.failed.length > 0 && cell.ok.length > 0) {
    parts.push(`failed: ${failureText(cell)}`);
  }
  const notes = [...new Set(cell.runs.flatMap((r) => r.notes))];
  if (notes.length > 0) {
    parts.push(shorten(notes[0].replace(/\d[\d,]*/, "N"), 60));
  }
  return parts.join("; ");
}

/** One of the issue's goals and whether the measurements meet it. */
export interface GoalCheck {
  goal: string;
  measured: string;
  met: boolean | null;
  caveat?: string;
}

function median(
  results: CompareResults,
  workload: string,
  point: string,
  server: string,
  metric: WorkloadMetric,
): number | undefined {
  return metricSpread(cellOf(results, workload, point, server), metric)
    ?.median;
}

function firstPoint(results: CompareResults, id: string): string | undefined {
  return results.workloads.find((w) => w.id === id)?.points[0]?.label;
}

function invalidCaveat(cells: Cell[]): string | undefined {
  const invalid = cells.flatMap((c) => c.invalid);
  if (invalid.length === 0) return undefined;
  const reasons = [...new Set(invalid.flatMap((r) => r.invalidReasons))];
  return `generator-limited in ${invalid.length} run(s): ${
    shorten(reasons[0] ?? "", 100)
  }`;
}

/**
 * Checks the issue's goals against the results. A goal whose inputs are
 * missing (a server not run, every run failed) is reported with
 * `met: null`.
 *
 * @example
 * ```ts ignore
 * for (const goal of checkGoals(results)) console.log(goal.goal, goal.met);
 * ```
 */
export function checkGoals(results: CompareResults): GoalCheck[] {
  const goals: GoalCheck[] = [];
  const has = (id: string) => results.servers.some((s) => s.id === id);
  const sat = firstPoint(results, "saturation");
  if (sat !== undefined) {
    const ours = median(
      results,
      "saturation",
      sat,
      "ours",
      "deliveredPerSecond",
    );
    const oursCell = cellOf(results, "saturation", sat, "ours");
    for (
      const [id, factor, text] of [
        ["book", 25, "≥ 25× the Nim book design"],
        ["ncat", 0.8, "≥ 0.8× ncat --broker"],
      ] as const
    ) {
      if (!has(id)) continue;
      const other = median(
        results,
        "saturation",
        sat,
        id,
        "deliveredPerSecond",
      );
      const r = ratio(ours, other);
      const oursCpu = median(
        results,
        "saturation",
        sat,
        "ours",
        "serverCpuPerMillion",
      );
      const otherCpu = median(
        results,
        "saturation",
        sat,
        id,
        "serverCpuPerMillion",
      );
      const efficiency = ratio(otherCpu, oursCpu);
      goals.push({
        goal: `Saturation fan-out at 100 clients: delivered lines/s ${text}`,
        measured: r === undefined
          ? "no ratio (a run failed)"
          : `${r.toFixed(2)}× (${formatTick(ours!)} vs ${
            formatTick(other!)
          } lines/s); CPU per delivery: ${
            efficiency === undefined
              ? "–"
              : `${id} uses ${efficiency.toFixed(2)}× ours`
          }`,
        met: r === undefined ? null : r >= factor,
        caveat: invalidCaveat([
          oursCell,
          cellOf(results, "saturation", sat, id),
        ]),
      });
    }
  }
  const lat = firstPoint(results, "latency");
  if (lat !== undefined) {
    const ours = median(results, "latency", lat, "ours", "p99");
    // References are the other designs, not variants of ours.
    const refs = results.servers.filter((s) => !s.id.startsWith("ours"))
      .map((s) => ({
        id: s.id,
        p99: median(results, "latency", lat, s.id, "p99"),
      }));
    const measuredRefs = refs.filter((r) => r.p99 !== undefined);
    goals.push({
      goal: "p99 latency at the fixed load no higher than any reference's",
      measured: ours === undefined
        ? "ours has no result"
        : `ours ${formatMs(ours)} ms; ${
          refs.map((r) =>
            `${r.id} ${
              r.p99 === undefined ? "failed" : `${formatMs(r.p99)} ms`
            }`
          ).join(", ")
        }`,
      met: ours === undefined || measuredRefs.length === 0
        ? null
        : measuredRefs.every((r) => ours <= r.p99!),
      caveat: invalidCaveat(
        results.servers.filter((s) =>
          s.id === "ours" || refs.some((r) => r.id === s.id)
        )
          .map((s) => cellOf(results, "latency", lat, s.id)),
      ),
    });
  }
  const idle = firstPoint(results, "idle");
  if (idle !== undefined) {
    const cell = cellOf(results, "idle", idle, "ours");
    const perConnection = metricSpread(cell, "rssPerConnection")?.median;
    const clients = results.workloads.find((w) => w.id === "idle")?.points[0]
      ?.clients;
    goals.push({
      goal: `${
        clients?.toLocaleString("en-US")
      } concurrent clients with ≤ 6 KiB of memory per idle connection`,
      measured: cell.ok.length === 0
        ? `failed: ${cell.failed[0]?.reason ?? "not run"}`
        : `${formatBytes(perConnection ?? NaN)} per connection (slope)`,
      met: cell.ok.length === 0 || perConnection === undefined
        ? false
        : perConnection <= 6 * 1024,
    });
  }
  const slow = results.workloads.find((w) => w.id === "slow-consumer");
  if (slow && slow.points.length >= 2) {
    const [without, withSlow] = slow.points.map((p) => p.label);
    const a = median(results, "slow-consumer", without, "ours", "p99");
    const b = median(results, "slow-consumer", withSlow, "ours", "p99");
    const r = ratio(b, a);
    goals.push({
      goal:
        "With a slow consumer present, the others' p99 within 2× of without",
      measured: r === undefined
        ? "no result"
        : `${formatMs(b!)} ms with vs ${formatMs(a!)} ms without: ${
          r.toFixed(2)
        }×`,
      met: r === undefined ? null : r <= 2,
      caveat: invalidCaveat(
        slow.points.map((p) =>
          cellOf(results, "slow-consumer", p.label, "ours")
        ),
      ),
    });
  }
  return goals;
}

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

function table(header: string[], rows: string[][]): string {
  const escape = (cell: string) => cell.replaceAll("|", "\\|");
  return [
    `| ${header.map(escape).join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.map(escape).join(" | ")} |`),
  ].join("\n");
}

/**
 * The Markdown report: how it was run, the goals, one section per
 * workload with a table (median and min–max over rounds, ratio to the
 * baseline) and its charts, and every failure and invalid run.
 *
 * @example
 * ```ts ignore
 * const markdown = renderMarkdown(results, renderCharts(results, "2026-11-23"));
 * ```
 */
export function renderMarkdown(
  results: CompareResults,
  charts: ReportChart[],
): string {
  const out: string[] = [];
  const baseline = results.servers.find((s) => s.baseline);
  out.push(
    `# linechat compare: ${results.date}${results.quick ? " (quick)" : ""}`,
    "",
    `${results.rounds} round(s), ${results.startedAt} to ${results.finishedAt}. ` +
      "Every run starts a fresh server; rounds interleave the servers " +
      "(the order rotates each round). Cells show the median over rounds " +
      "with min–max in parentheses. ✗ marks a server that failed every " +
      "round of that measurement; † marks results where the load " +
      "generator itself was the limit (see Validity).",
    "",
    "Machine: " +
      Object.entries(results.machine).map(([k, v]) => `${k} ${v}`).join(", ") +
      ". The server and the load generator share its cores.",
    "",
    "## Servers",
    "",
    table(
      ["id", "server", "command"],
      results.servers.map((s) => [
        s.id,
        `${s.name}${s.baseline ? " (baseline)" : ""}`,
        `\`${s.command}\``,
      ]),
    ),
    "",
  );
  if (results.missing.length > 0) {
    out.push(
      "Not included: " + results.missing.map((m) => shorten(m, 200)).join("; "),
      "",
    );
  }
  out.push(
    "## Goals",
    "",
    table(
      ["goal", "measured", "met"],
      checkGoals(results).map((g) => [
        g.goal,
        g.measured + (g.caveat ? ` (${g.caveat})` : ""),
        g.met === null ? "?" : g.met ? "yes" : "no",
      ]),
    ),
    "",
  );
  for (const workload of results.workloads) {
    out.push(`## ${workload.title}`, "", workload.description, "");
    const headline = workload.headline;
    for (const point of workload.points) {
      if (workload.points.length > 1) out.push(`### ${point.label}`, "");
      out.push(`\`${workload.loadCommands[point.label]}\``, "");
      const baseValue = baseline
        ? median(results, workload.id, point.label, baseline.id, headline)
        : undefined;
      const header = [
        "server",
        ...workload.metrics.map((m) => METRICS[m].label),
        ...(baseline ? [`${METRICS[headline].label}: × ${baseline.id}`] : []),
        "runs",
      ];
      const rows = results.servers.map((server) => {
        const cell = cellOf(results, workload.id, point.label, server.id);
        const value = metricSpread(cell, headline)?.median;
        const r = ratio(value, baseValue);
        return [
          server.name,
          ...workload.metrics.map((m, i) =>
            i === 0 || cell.ok.length > 0 ? cellText(cell, m) : ""
          ),
          ...(baseline ? [r === undefined ? "–" : `${r.toFixed(2)}×`] : []),
          runsText(cell),
        ];
      });
      out.push(table(header, rows), "");
    }
    for (const chart of charts) {
      if (chart.file.includes(`-${workload.id}-`)) {
        out.push(`![${chart.title}](${chart.file})`, "");
      }
    }
  }
  const failed = results.runs.filter((r) =>
    r.status === "failed" && !isGeneratorError(r)
  );
  out.push("## Failures", "");
  if (failed.length === 0) out.push("None.", "");
  else {
    out.push(
      runTable(
        failed,
        ["what happened"],
        (r) => [shorten(r.reason ?? "", 200)],
      ),
      "",
    );
  }
  const waits = results.runs.filter((r) =>
    (r.machineBusyBefore?.waitedSeconds ?? 0) > 1
  );
  if (waits.length > 0) {
    const longest = Math.max(
      ...waits.map((r) => r.machineBusyBefore!.waitedSeconds),
    );
    out.push(
      `The machine is shared: ${waits.length} run(s) waited for other ` +
        `processes to quieten first (up to ${longest} s; at most 60 s, ` +
        "then the run went ahead).",
      "",
    );
  }
  const generatorErrors = results.runs.filter(isGeneratorError);
  if (generatorErrors.length > 0) {
    out.push(
      "## Load generator errors",
      "",
      "These runs produced no measurement because the load generator " +
        "itself failed; they are left out of the tables (neither ok nor " +
        "failed for the server).",
      "",
      runTable(
        generatorErrors,
        ["error"],
        (r) => [shorten((r.reason ?? "").split("\n")[0], 160)],
      ),
      "",
    );
  }
  const invalid = results.runs.filter((r) => r.status === "ok" && !r.valid);
  out.push(
    "## Validity",
    "",
    "A run is invalid when the load generator fell behind its own " +
      "schedule or saturated its CPU: then it, not the server, set the " +
      "numbers, and they are a lower bound on what the server can do.",
    "",
  );
  if (invalid.length === 0) out.push("Every successful run was valid.", "");
  else {
    out.push(
      runTable(
        invalid,
        ["why"],
        (r) => [shorten(r.invalidReasons.join("; "), 200)],
      ),
      "",
    );
  }
  out.push(...networkSection(results.runs));
  return out.join("\n");
}

/** A table of runs: which run, then `columns` filled by `cells`. */
function runTable(
  runs: RunRecord[],
  columns: string[],
  cells: (run: RunRecord) => string[],
): string {
  return table(
    ["round", "workload", "point", "server", ...columns],
    runs.map((
      r,
    ) => [String(r.round), r.workload, r.point, r.server, ...cells(r)]),
  );
}

/** Runs during which the kernel dropped or retransmitted packets. */
function networkSection(runs: RunRecord[]): string[] {
  // Results from before the counters were sampled have none to show.
  if (!runs.some((r) => r.report?.network)) return [];
  const lossy = runs.filter((r) =>
    r.report?.network &&
    (r.report.network.tcpRetransmits > 0 || r.report.network.backlogDrops > 0)
  );
  const out = [
    "## TCP retransmissions",
    "",
    "Loopback drops a packet when a CPU's input backlog " +
    "(`net.core.netdev_max_backlog`) is full, which a burst of writes to " +
    "thousands of sockets can cause; TCP resends it after its " +
    "retransmission timeout (200 ms or more), and that line's latency " +
    "carries the wait. Counted machine-wide during each window.",
    "",
  ];
  if (lossy.length === 0) {
    out.push("No run saw a retransmission or a dropped packet.", "");
    return out;
  }
  out.push(
    runTable(lossy, ["retransmissions", "drops"], (r) => [
      String(r.report!.network!.tcpRetransmits),
      String(r.report!.network!.backlogDrops),
    ]),
    "",
  );
  return out;
}
