/**
 * `matrix.html`: a self-contained dashboard (no external files) with the
 * matrix table, where each cell links to that server's evidence for that
 * case, inlined and collapsible: findings with expected vs received lines,
 * measurements, the wire trace, the server's output and any crash.
 *
 * @module
 */

import { escapeMarkup as h } from "../../lib/markup.ts";
import { describeCrashStatus } from "../describe_error.ts";
import { escapeOutput } from "../escape.ts";
import type { CaseResult, Finding, Report, TraceEvent } from "../types.ts";
import {
  byArea,
  countVerdicts,
  CRASH_SYMBOL,
  formatDuration,
  formatValue,
  matrixCellText,
  VERDICT_SYMBOLS,
} from "./_cells.ts";
import type {
  MatrixCase,
  MatrixDocument,
  MatrixServerEntry,
  MatrixVerdict,
} from "./json.ts";

/**
 * Options for {@linkcode renderMatrixHtml}.
 *
 * @example
 * ```ts
 * import type { HtmlOptions } from "./html.ts";
 * const options: HtmlOptions = { title: "Nightly matrix" };
 * console.log(options.title);
 * ```
 */
export interface HtmlOptions {
  /**
   * The page title.
   *
   * @default {"linechat conformance matrix"}
   */
  title?: string;
}

/**
 * The id of the evidence element for one server and case (the cell's link
 * target).
 *
 * @example
 * ```ts
 * import { evidenceId } from "./html.ts";
 * console.log(evidenceId("book", "relay.no-echo")); // "e-book-relay.no-echo"
 * ```
 */
export function evidenceId(serverId: string, caseId: string): string {
  return `e-${serverId}-${caseId}`.replace(/[^\w.-]/g, "_");
}

const STYLE = `
:root { font: 14px/1.45 system-ui, sans-serif; color: #1b1f24; }
body { margin: 1.5rem; }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; }
.meta, .legend { color: #57606a; margin: .2rem 0; }
table { border-collapse: collapse; }
th, td { border: 1px solid #d0d7de; padding: .2rem .5rem; }
thead th { position: sticky; top: 0; background: #f6f8fa; }
.matrix td.v { text-align: center; white-space: nowrap; }
.matrix td.v a { text-decoration: none; display: block; }
.matrix tr.area th { text-align: left; background: #eef1f4; }
.matrix td.id code { white-space: nowrap; }
.v.fail { background: #ffebe9; } .v.flaky { background: #fff1e5; } .v.timeout { background: #efebe9; }
.v.non-strict { background: #fff8c5; } .v.pass { background: #f0fff4; }
.v.skipped, .v.not-run { background: #f6f8fa; } .v.info { background: #ddf4ff; }
body.only-problems tr.all-pass { display: none; }
details.ev { border: 1px solid #d0d7de; border-radius: 6px; margin: .4rem 0; }
details.ev > summary { cursor: pointer; padding: .3rem .6rem; }
details.ev > div { padding: .3rem .8rem .8rem; }
details.ev:target { outline: 3px solid #0969da; }
pre { background: #f6f8fa; padding: .4rem .6rem; overflow: auto; max-height: 28rem; margin: .3rem 0; }
.lines td { vertical-align: top; } .lines pre { max-height: 14rem; }
.trace-box { background: #f6f8fa; padding: .4rem .6rem; overflow: auto; max-height: 28rem; }
.trace td { font-family: ui-monospace, monospace; font-size: 12px; border: none; padding: 0 .6rem 0 0; vertical-align: top; }
.trace td.data { white-space: pre-wrap; word-break: break-all; }
.sev-fail { color: #cf222e; } .sev-non-strict { color: #9a6700; } .sev-skip, .sev-info { color: #57606a; }
`;

const SCRIPT = `
function openTarget() {
  const el = document.getElementById(decodeURIComponent(location.hash.slice(1)));
  if (el && el.tagName === "DETAILS") { el.open = true; el.scrollIntoView({ block: "start" }); }
}
addEventListener("hashchange", openTarget);
addEventListener("DOMContentLoaded", openTarget);
function toggleProblems(on) { document.body.classList.toggle("only-problems", on); }
`;

/**
 * Renders the dashboard. `reports` holds each server's full report (by
 * server id) for the evidence; a server without one shows why.
 *
 * @example
 * ```ts
 * import { renderMatrixHtml } from "./html.ts";
 * import { buildMatrix } from "./json.ts";
 *
 * const doc = buildMatrix({
 *   startedAt: new Date(0).toISOString(),
 *   durationMs: 0,
 *   settings: { only: ["relay.no-echo"], skip: [], clients: 500, retries: 1, timeoutScale: 1, verbose: false },
 *   concurrency: 1,
 *   runs: [],
 * });
 * console.log(renderMatrixHtml(doc, {}).startsWith("<!DOCTYPE html>")); // true
 * ```
 *
 * @param doc The matrix document (see `buildMatrix`).
 * @param reports Server id → its full report, or `null`.
 * @param options The page title.
 * @returns The page, self-contained.
 */
export function renderMatrixHtml(
  doc: MatrixDocument,
  reports: Readonly<Record<string, Report | null | undefined>>,
  options: HtmlOptions = {},
): string {
  const title = options.title ?? "linechat conformance matrix";
  const out: string[] = [];
  out.push(
    "<!DOCTYPE html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${h(title)}</title><style>${STYLE}</style>`,
    `<script>${SCRIPT}</script></head><body>`,
    `<h1>${h(title)}</h1>`,
    `<p class="meta">${h(runLine(doc))}</p>`,
    `<p class="legend">${
      VERDICT_SYMBOLS.map(({ symbol, meaning }) => h(`${symbol} ${meaning}`))
        .join(" · ")
    } · ${CRASH_SYMBOL} the server process died during this case.</p>`,
    '<p><label><input type="checkbox" onchange="toggleProblems(this.checked)"> ' +
      "hide rows every server passes</label> · click a cell for its evidence</p>",
  );
  out.push(matrixTable(doc));
  out.push("<h2>Servers</h2><ul>");
  for (const s of doc.servers) {
    out.push(
      `<li><b>${h(s.name)}</b> (<code>${h(s.id)}</code>): ${
        h(s.description)
      }; <code>${h(s.spawn)}</code>${
        s.maxClients !== null
          ? ` (declared limit: ${s.maxClients} clients)`
          : ""
      }; ${serverStatus(s)}</li>`,
    );
  }
  out.push("</ul>");
  for (const s of doc.servers) {
    out.push(`<h2 id="server-${h(s.id)}">Evidence: ${h(s.name)}</h2>`);
    const report = reports[s.id] ?? null;
    if (report === null) {
      out.push(`<p>No report: ${h(s.error ?? "not run")}</p>`);
      continue;
    }
    const results = new Map(report.cases.map((c) => [c.id, c]));
    for (const row of doc.cases) {
      out.push(evidence(s, row, results.get(row.id), report));
    }
  }
  out.push("</body></html>");
  return out.join("\n") + "\n";
}

function runLine(doc: MatrixDocument): string {
  const { settings } = doc;
  const parts = [
    `run ${doc.startedAt}`,
    `${formatDuration(doc.durationMs)}`,
    `--clients ${settings.clients}`,
    `retries ${settings.retries}`,
    `timeout scale ${settings.timeoutScale}`,
    `${doc.concurrency} server(s) at a time`,
  ];
  if (settings.only.length > 0) parts.push(`--only ${settings.only}`);
  if (settings.skip.length > 0) parts.push(`--skip ${settings.skip}`);
  return parts.join(" · ");
}

function serverStatus(s: MatrixServerEntry): string {
  if (s.status !== "ran") return `<b>not run</b>: ${h(s.error ?? "")}`;
  const crashes = s.crashes.length > 0 ? `, ${s.crashes.length} crash(es)` : "";
  return `ran in ${formatDuration(s.durationMs)}, ${s.restarts} restart(s)` +
    crashes;
}

function matrixTable(doc: MatrixDocument): string {
  const out: string[] = ['<table class="matrix"><thead><tr>'];
  out.push("<th>Case</th><th>§</th><th>Level</th>");
  for (const s of doc.servers) {
    out.push(
      `<th title="${h(s.spawn)}"><a href="#server-${h(s.id)}">${
        h(s.name)
      }</a></th>`,
    );
  }
  out.push("</tr></thead><tbody>");
  const span = doc.servers.length + 3;
  for (const [area, rows] of byArea(doc)) {
    out.push(`<tr class="area"><th colspan="${span}">${h(area)}</th></tr>`);
    for (const row of rows) {
      const allPass = doc.servers.every((s) =>
        ["pass", "info"].includes(row.verdicts[s.id].verdict)
      );
      out.push(
        `<tr${allPass ? ' class="all-pass"' : ""}><td class="id" title="${
          h(row.requirement)
        }"><code>${h(row.id)}</code></td><td>${h(row.clause)}</td><td>${
          h(row.level)
        }</td>`,
      );
      for (const s of doc.servers) {
        const cell = row.verdicts[s.id];
        out.push(
          `<td class="v ${cell.verdict}"><a href="#${
            evidenceId(s.id, row.id)
          }" title="${h(`${s.name}: ${cell.verdict}: ${cell.message}`)}">${
            h(matrixCellText(cell))
          }</a></td>`,
        );
      }
      out.push("</tr>");
    }
  }
  out.push(`<tr class="area"><th colspan="${span}">totals</th></tr>`);
  const counts = doc.servers.map((s) => countVerdicts(doc, s.id));
  for (const { verdict, symbol } of VERDICT_SYMBOLS) {
    if (counts.every((c) => c[verdict] === 0)) continue;
    out.push(`<tr><td colspan="3">${h(`${symbol} ${verdict}`)}</td>`);
    for (const c of counts) {
      out.push(`<td class="v">${c[verdict as MatrixVerdict]}</td>`);
    }
    out.push("</tr>");
  }
  out.push(`<tr><td colspan="3">${CRASH_SYMBOL} server crashed in</td>`);
  for (const s of doc.servers) {
    out.push(
      `<td class="v">${
        doc.cases.filter((r) => r.verdicts[s.id].crashed).length
      }</td>`,
    );
  }
  out.push('</tr><tr><td colspan="3">run time</td>');
  for (const s of doc.servers) {
    out.push(
      `<td class="v">${
        s.status === "ran" ? h(formatDuration(s.durationMs)) : "—"
      }</td>`,
    );
  }
  out.push("</tr></tbody></table>");
  return out.join("");
}

function evidence(
  server: MatrixServerEntry,
  row: MatrixCase,
  result: CaseResult | undefined,
  report: Report,
): string {
  const cell = row.verdicts[server.id];
  const out: string[] = [
    `<details class="ev" id="${evidenceId(server.id, row.id)}">`,
    `<summary>${h(matrixCellText(cell))} <code>${h(row.id)}</code> · ${
      h(server.name)
    } · <b>${h(cell.verdict)}</b> · ${h(cell.message)}</summary><div>`,
    `<p>${h(row.clause)} ${h(row.level)}: ${h(row.requirement)}</p>`,
  ];
  if (result === undefined) {
    out.push("<p>The report has no result for this case.</p></div></details>");
    return out.join("\n");
  }
  out.push(
    `<p>${result.attempts} attempt(s), ${result.durationMs} ms${
      result.counted ? ", counted as a failure" : ""
    }</p>`,
  );
  for (const crash of report.spawn?.crashes ?? []) {
    if (crash.caseId !== row.id) continue;
    out.push(
      `<p class="sev-fail">${CRASH_SYMBOL} the server exited during this case (${
        h(describeCrashStatus(crash))
      }); its last output:</p><pre>${h(escapeOutput(crash.outputTail))}</pre>`,
    );
  }
  if (result.findings.length > 0) {
    out.push("<h4>Findings</h4><ul>");
    for (const finding of result.findings) out.push(findingHtml(finding));
    out.push("</ul>");
  }
  const measurements = Object.entries(result.measurements);
  if (measurements.length > 0) {
    out.push("<h4>Measurements</h4><table>");
    for (const [name, value] of measurements) {
      out.push(
        `<tr><td><code>${h(name)}</code></td><td>${
          h(formatValue(name, value))
        }</td></tr>`,
      );
    }
    out.push("</table>");
  }
  if (result.trace && result.trace.length > 0) {
    out.push(traceHtml(result.trace, result.traceOmitted ?? 0));
  } else if (!["pass", "info", "skipped"].includes(result.verdict)) {
    out.push("<p>No trace was recorded.</p>");
  }
  if (result.serverOutput) {
    out.push(
      "<h4>Server output during the case</h4>" +
        `<pre>${h(escapeOutput(result.serverOutput))}</pre>`,
    );
  }
  out.push("</div></details>");
  return out.join("\n");
}

function findingHtml(finding: Finding): string {
  const parts = [
    `<li><span class="sev-${finding.severity}">${h(finding.severity)}</span> ${
      h(finding.clause)
    }: ${h(finding.message)}`,
  ];
  if (finding.expected || finding.received) {
    const clients = [
      ...new Set([
        ...Object.keys(finding.expected ?? {}),
        ...Object.keys(finding.received ?? {}),
      ]),
    ];
    parts.push(
      '<table class="lines"><tr><th>client</th><th>expected</th><th>received</th></tr>',
    );
    for (const client of clients) {
      parts.push(
        `<tr><td>${h(client)}</td><td>${
          linesHtml(finding.expected?.[client])
        }</td><td>${linesHtml(finding.received?.[client])}</td></tr>`,
      );
    }
    parts.push("</table>");
  }
  if (finding.data && Object.keys(finding.data).length > 0) {
    parts.push(
      `<pre>${
        h(
          Object.entries(finding.data).map(([k, v]) => `${k}: ${v}`).join("\n"),
        )
      }</pre>`,
    );
  }
  parts.push("</li>");
  return parts.join("");
}

function linesHtml(lines: readonly string[] | undefined): string {
  if (lines === undefined) return "<i>not recorded</i>";
  if (lines.length === 0) return "<i>no lines</i>";
  return `<pre>${h(lines.map((line) => `"${line}"`).join("\n"))}</pre>`;
}

function traceHtml(trace: readonly TraceEvent[], omitted: number): string {
  const out = [
    `<h4>Wire trace (${trace.length} events${
      omitted > 0 ? `, ${omitted} more left out` : ""
    })</h4><div class="trace-box"><table class="trace">`,
  ];
  for (const event of trace) {
    const size = event.bytes !== undefined ? `${event.bytes} B` : "";
    const term = event.terminator ? ` ${event.terminator}` : "";
    out.push(
      `<tr><td>${event.t.toFixed(1)}</td><td>${h(event.client)}</td><td>${
        h(event.event)
      }</td><td>${h(size + term)}</td><td class="data">${
        h(event.data ?? "")
      }</td></tr>`,
    );
  }
  out.push("</table></div>");
  return out.join("");
}
