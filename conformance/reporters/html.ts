/**
 * The HTML reporter: one self-contained page (no scripts, no external
 * files) with the summary, every case with its clause, verdict and
 * evidence, and the wire traces folded away.
 *
 * @module
 */

import { escapeMarkup } from "../../lib/markup.ts";
import { formatDuration } from "../duration.ts";
import { escapeOutput } from "../escape.ts";
import {
  type CaseResult,
  type Finding,
  type Report,
  type Verdict,
  VERDICTS,
} from "../types.ts";
import { formatElapsed, traceLine, verdictLabel } from "./_text.ts";

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #e4e4e4; vertical-align: top; }
th { background: #f5f5f5; }
code, pre, .mono { font-family: ui-monospace, monospace; font-size: 12.5px; }
pre { background: #f7f7f7; padding: 8px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
.v { font-weight: 600; padding: 1px 6px; border-radius: 3px; color: #fff; white-space: nowrap; }
.v-pass { background: #2e7d32; } .v-info { background: #0277bd; } .v-skipped { background: #9e9e9e; }
.v-non-strict { background: #ef8f00; } .v-flaky { background: #8e24aa; } .v-fail { background: #c62828; }
.v-timeout { background: #6d4c41; }
.cards { display: flex; gap: 10px; flex-wrap: wrap; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 8px 14px; min-width: 90px; }
.card b { display: block; font-size: 1.6em; }
details.case { border: 1px solid #e0e0e0; border-radius: 6px; margin: 8px 0; padding: 4px 10px; }
details.case > summary { cursor: pointer; }
.finding { margin: 6px 0 10px; }
.evidence td { font-family: ui-monospace, monospace; font-size: 12.5px; }
.muted { color: #777; }
`;

function badge(verdict: Verdict): string {
  return `<span class="v v-${verdict}">${verdictLabel(verdict)}</span>`;
}

function linesCell(lines: readonly string[] | undefined): string {
  if (lines === undefined) return `<span class="muted">—</span>`;
  if (lines.length === 0) return `<span class="muted">(nothing)</span>`;
  return lines.map((l) =>
    l.startsWith("… ") ? escapeMarkup(l) : `"${escapeMarkup(l)}"`
  ).join("<br>");
}

function findingHtml(finding: Finding): string {
  const clients = [
    ...new Set([
      ...Object.keys(finding.expected ?? {}),
      ...Object.keys(finding.received ?? {}),
    ]),
  ];
  const evidence = clients.length === 0 ? "" : `<table class="evidence">
<tr><th>client</th><th>expected</th><th>received</th></tr>
${
    clients.map((client) =>
      `<tr><td>${escapeMarkup(client)}</td><td>${
        linesCell(finding.expected?.[client])
      }</td><td>${linesCell(finding.received?.[client])}</td></tr>`
    ).join("\n")
  }
</table>`;
  const data = finding.data
    ? `<div class="mono muted">${
      escapeMarkup(
        Object.entries(finding.data).map(([k, v]) => `${k}=${v}`).join(" "),
      )
    }</div>`
    : "";
  return `<div class="finding"><b>${escapeMarkup(finding.severity)}</b> ${
    escapeMarkup(finding.clause)
  } ${escapeMarkup(finding.message)}${data}${evidence}</div>`;
}

function caseHtml(c: CaseResult): string {
  const open = c.verdict === "fail" || c.verdict === "flaky" ||
    c.verdict === "non-strict" || c.verdict === "timeout";
  const measurements = Object.entries(c.measurements);
  const parts = [
    `<p>${escapeMarkup(c.requirement)} <span class="muted">(${c.level}, ${
      escapeMarkup(c.clause)
    }, ${formatElapsed(c.durationMs)}, ${c.attempts} attempt${
      c.attempts === 1 ? "" : "s"
    })</span></p>`,
    ...c.findings.map(findingHtml),
  ];
  if (measurements.length > 0) {
    parts.push(
      `<table><tr><th>measurement</th><th>value</th></tr>${
        measurements.map(([k, v]) =>
          `<tr><td>${escapeMarkup(k)}</td><td class="mono">${
            escapeMarkup(String(v))
          }</td></tr>`
        )
          .join("")
      }</table>`,
    );
  }
  if (c.trace && c.trace.length > 0) {
    parts.push(
      `<details><summary>wire trace (${c.trace.length} events${
        c.traceOmitted ? `, ${c.traceOmitted} left out` : ""
      })</summary><pre>${
        escapeMarkup(c.trace.map(traceLine).join("\n"))
      }</pre></details>`,
    );
  }
  if (c.serverOutput?.trim()) {
    parts.push(
      `<details><summary>server output during the case</summary><pre>${
        escapeMarkup(escapeOutput(c.serverOutput))
      }</pre></details>`,
    );
  }
  return `<details class="case" id="${escapeMarkup(c.id)}"${
    open ? " open" : ""
  }>
<summary>${badge(c.verdict)} <code>${escapeMarkup(c.id)}</code> ${
    escapeMarkup(c.clause)
  } ${c.level} — ${escapeMarkup(c.message)}</summary>
${parts.join("\n")}
</details>`;
}

function diagnosesHtml(report: Report): string {
  const shown = report.diagnoses.filter((d) =>
    d.severity !== "info" || d.cases.length > 0
  );
  if (shown.length === 0) return "";
  return `<h2>Root causes</h2><ul>${
    shown.map((d) =>
      `<li><b>${escapeMarkup(d.severity)}</b> ${escapeMarkup(d.clause)} ${
        escapeMarkup(d.message)
      }${d.hint ? ` <i>${escapeMarkup(d.hint)}</i>` : ""}${
        d.cases.length > 0
          ? `<br><span class="muted">${
            d.severity === "info" ? "seen in" : "explains"
          }: ${
            d.cases.map((id) =>
              `<a href="#${escapeMarkup(id)}"><code>${
                escapeMarkup(id)
              }</code></a>`
            ).join(", ")
          }</span>`
          : ""
      }${d.stopped ? " <b>(the run stopped here)</b>" : ""}</li>`
    ).join("\n")
  }</ul>`;
}

/**
 * Formats the report as a self-contained HTML page.
 *
 * @example
 * ```ts ignore
 * import { formatHtml } from "./html.ts";
 * await Deno.writeTextFile("conformance.html", formatHtml(report));
 * ```
 */
export function formatHtml(report: Report): string {
  const s = report.summary;
  const cards = VERDICTS.map((v) =>
    `<div class="card">${badge(v)}<b>${s[v]}</b></div>`
  ).join("");
  const rows = report.cases.map((c) =>
    `<tr><td><a href="#${escapeMarkup(c.id)}"><code>${
      escapeMarkup(c.id)
    }</code></a></td><td>${escapeMarkup(c.clause)}</td><td>${c.level}</td><td>${
      badge(c.verdict)
    }</td><td>${escapeMarkup(c.message)}</td><td>${
      formatElapsed(c.durationMs)
    }</td></tr>`
  ).join("\n");
  const spawn = report.spawn
    ? `<p>Spawned with <code>${
      escapeMarkup(report.spawn.command)
    }</code>: ${report.spawn.restarts} restarts, ${report.spawn.crashes.length} crashes${
      report.spawn.crashes.length > 0
        ? ` (during ${
          report.spawn.crashes.map((c) =>
            `<code>${escapeMarkup(c.caseId)}</code>`
          ).join(", ")
        })`
        : ""
    }.</p>`
    : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>linechat conformance: ${
    s.counted === 0 ? "passed" : `${s.counted} failing`
  }</title>
<style>${STYLE}</style>
</head>
<body>
<h1>linechat conformance report</h1>
<p>Targets: ${
    report.targets.map((t) => `<code>${escapeMarkup(t)}</code>`).join(", ")
  } ·
started ${escapeMarkup(report.startedAt)} · took ${
    formatElapsed(report.durationMs)
  } ·
level <code>${report.options.level}</code> · declared line limit ${report.options.maxLineBytes} bytes ·
output terminator <b>${report.server.outputTerminator}</b> ·
exit code <b>${s.exitCode}</b> (${s.counted} counted ${
    s.counted === 1 ? "failure" : "failures"
  })</p>
${spawn}
<p>Bound: at most ${
    formatDuration(report.bound.ms)
  } at timeout scale ${report.options.timeoutScale}${
    report.bound.fromDeadline ? " (--deadline)" : ""
  } · latency: ${
    report.latency
      ? `median ${report.latency.medianMs} ms, p99 ${report.latency.p99Ms} ms (waits ×${report.latency.waitScale})`
      : "not measured"
  }</p>
<div class="cards">${cards}</div>
${diagnosesHtml(report)}
<h2>Cases</h2>
<table>
<tr><th>id</th><th>clause</th><th>level</th><th>verdict</th><th>message</th><th>time</th></tr>
${rows}
</table>
<h2>Details</h2>
${report.cases.map(caseHtml).join("\n")}
<p class="muted">Verdicts: PASS the requirement holds · NON-STRICT a SHOULD is broken · FAIL a MUST is broken ·
FLAKY failed, then passed when retried (counted as failing) · TIMEOUT reached its deadline before it could judge (counted as failing) ·
SKIPPED not run or not measurable here · INFO a measurement (never counted).
Lines are shown escaped: \\r \\n \\t \\0 \\xNN (bytes that are not UTF-8), \\u{…} (invisible characters).</p>
</body>
</html>
`;
}
