/**
 * The comparison's Markdown report: how it was run, the goals, one
 * section per workload with its table (median and min–max over rounds,
 * ratio to the baseline) and charts, and every failure, invalid run and
 * run that saw packets dropped.
 *
 * @module
 */

import { ratio } from "../statistics.ts";
import {
  cellOf,
  cellText,
  isGeneratorError,
  median,
  METRICS,
  metricSpread,
  runsText,
  shorten,
} from "./cells.ts";
import type { ChartCheck } from "./chart_check.ts";
import type { ReportChart } from "./charts.ts";
import { checkGoals } from "./goals.ts";
import type { CompareResults, RunRecord } from "./runner.ts";

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
  check?: ChartCheck,
): string {
  const out: string[] = [];
  const baseline = results.servers.find((s) => s.baseline);
  out.push(
    `# linechat compare: ${results.date}${results.quick ? " (quick)" : ""}`,
    "",
    `${results.rounds} round(s), ${results.startedAt} to ${results.finishedAt}` +
      (results.toolVersion ? `, linechat ${results.toolVersion}` : "") +
      ". " +
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
        `\`${s.command}\`` +
        (s.connect
          ? `; clients: ${s.connect.map((t) => `\`${t}\``).join(", ")}`
          : ""),
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
    "A run is invalid when a number it gives would be wrong: the load " +
      "generator was the limit (its busiest thread saturated), fell far " +
      "behind its own schedule, or other processes took a core; then the " +
      "figures are a lower bound on what the server can do.",
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
  out.push(...warningsSection(results.runs));
  out.push(...networkSection(results.runs));
  if (check) out.push(...chartCheckSection(check));
  return out.join("\n");
}

/** The load generator's warnings, each with the runs it was given in. */
function warningsSection(runs: RunRecord[]): string[] {
  const byWarning = new Map<string, RunRecord[]>();
  for (const run of runs) {
    for (const warning of run.warnings ?? []) {
      // One row per kind of warning: its numbers differ from run to run.
      const kind = warning.split(" (")[0].replace(/\d[\d.,]*/g, "N");
      byWarning.set(kind, [...byWarning.get(kind) ?? [], run]);
    }
  }
  if (byWarning.size === 0) return [];
  const runName = runNamer(runs);
  return [
    "## Warnings",
    "",
    "What the load generator said about runs it still judged valid " +
    "(docs/load.md lists the thresholds): the figures are right, but " +
    "noisy or near a limit.",
    "",
    table(
      ["warning", "runs", "example"],
      [...byWarning].map(([kind, list]) => [
        kind,
        `${list.length}: ${
          shorten(
            list.map(runName).join(", "),
            120,
          )
        }`,
        shorten(
          (list[0].warnings ?? []).find((w) =>
            w.split(" (")[0].replace(/\d[\d.,]*/g, "N") === kind
          ) ?? "",
          200,
        ),
      ]),
    ),
    "",
  ];
}

/**
 * Names runs shortly for a list: workload, then the point where the
 * workload has several (scaling's client counts), server and round.
 */
function runNamer(runs: RunRecord[]): (run: RunRecord) => string {
  const points = new Map<string, Set<string>>();
  for (const run of runs) {
    points.set(
      run.workload,
      (points.get(run.workload) ?? new Set()).add(run.point),
    );
  }
  return (run) => {
    const point = (points.get(run.workload)?.size ?? 0) > 1
      ? ` (${run.point})`
      : "";
    return `${run.workload}${point} ${run.server} #${run.round}`;
  };
}

/** What opening the charts in a browser found. */
function chartCheckSection(check: ChartCheck): string[] {
  const out = ["## Charts checked in a browser", ""];
  if (check.skipped) {
    out.push(`Not checked: ${check.skipped}.`, "");
    return out;
  }
  out.push(
    `Each chart was rendered in headless ${check.browser} and every label ` +
      "measured where it was drawn: " +
      (check.problems.length === 0
        ? `in all ${check.checked}, none leaves its chart or covers another.`
        : `${check.problems.length} problem(s) in ${check.checked} charts:`),
    "",
  );
  if (check.problems.length > 0) {
    out.push(
      table(
        ["chart", "problem"],
        check.problems.map((p) => [p.file, shorten(p.problem, 200)]),
      ),
      "",
    );
  }
  return out;
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
