/**
 * `matrix.md`: the matrix as a Markdown table for the README, cases as rows
 * grouped by area, servers as columns, a verdict symbol per cell, then a
 * legend, per-server totals and the commands each server ran with.
 *
 * @module
 */

import {
  byArea,
  countVerdicts,
  CRASH_SYMBOL,
  formatDuration,
  matrixCellText,
  VERDICT_SYMBOLS,
} from "./_cells.ts";
import type { MatrixDocument } from "./json.ts";

/**
 * Options for {@linkcode renderMatrixMarkdown}.
 *
 * @example
 * ```ts
 * import type { MarkdownOptions } from "./markdown.ts";
 * const options: MarkdownOptions = { heading: "### Matrix" };
 * console.log(options.heading);
 * ```
 */
export interface MarkdownOptions {
  /**
   * A heading line put first; none when empty.
   *
   * @default {""}
   */
  heading?: string;
}

/** Escapes a table cell's text (pipes would end the cell). */
function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(" | ")} |`;
}

/**
 * Renders the matrix as Markdown: the table, a legend, totals per server
 * and a note on how each server was run.
 *
 * @example
 * ```ts
 * import { buildMatrix } from "./json.ts";
 * import { renderMatrixMarkdown } from "./markdown.ts";
 *
 * const doc = buildMatrix({
 *   startedAt: new Date(0).toISOString(),
 *   durationMs: 0,
 *   settings: { only: ["relay.no-echo"], skip: [], clients: 500, retries: 1, timeoutScale: 1, verbose: false },
 *   concurrency: 1,
 *   runs: [],
 * });
 * console.log(renderMatrixMarkdown(doc).includes("`relay.no-echo`")); // true
 * ```
 *
 * @param doc The matrix document (see `buildMatrix`).
 * @param options An optional heading.
 * @returns The Markdown text, ending in a newline.
 */
export function renderMatrixMarkdown(
  doc: MatrixDocument,
  options: MarkdownOptions = {},
): string {
  const out: string[] = [];
  if (options.heading) out.push(options.heading, "");
  const servers = doc.servers;
  out.push(row(["Case", "§", "Level", ...servers.map((s) => cell(s.name))]));
  out.push(row(["---", "---", "---", ...servers.map(() => ":---:")]));
  const blank = servers.map(() => "");
  for (const [area, rows] of byArea(doc)) {
    out.push(row([`**${area}**`, "", "", ...blank]));
    for (const r of rows) {
      out.push(row([
        `\`${r.id}\``,
        r.clause,
        r.level,
        ...servers.map((s) => matrixCellText(r.verdicts[s.id])),
      ]));
    }
  }
  out.push(row(["**totals**", "", "", ...blank]));
  const counts = servers.map((s) => countVerdicts(doc, s.id));
  for (const { verdict, symbol } of VERDICT_SYMBOLS) {
    if (counts.every((c) => c[verdict] === 0)) continue;
    out.push(row([
      `${symbol} ${verdict}`,
      "",
      "",
      ...counts.map((c) => String(c[verdict])),
    ]));
  }
  out.push(row([
    `${CRASH_SYMBOL} server crashed in`,
    "",
    "",
    ...servers.map((s) =>
      String(doc.cases.filter((r) => r.verdicts[s.id].crashed).length)
    ),
  ]));
  out.push(row([
    "run time",
    "",
    "",
    ...servers.map((s) =>
      s.status === "ran" ? formatDuration(s.durationMs) : "—"
    ),
  ]));
  out.push("");
  out.push(
    VERDICT_SYMBOLS.map(({ symbol, meaning }) => `${symbol} ${meaning}`)
      .join(" · ") +
      ` · ${CRASH_SYMBOL} the server process died during this case ` +
      "(the suite restarted it for the next).",
  );
  out.push("");
  const flags = [`--clients ${doc.settings.clients}`];
  if (doc.settings.retries !== 1) flags.push(`retries ${doc.settings.retries}`);
  if (doc.settings.timeoutScale !== 1) {
    flags.push(`--timeout-scale ${doc.settings.timeoutScale}`);
  }
  if (doc.settings.only.length > 0) {
    flags.push(`--only ${doc.settings.only.join(",")}`);
  }
  if (doc.settings.skip.length > 0) {
    flags.push(`--skip ${doc.settings.skip.join(",")}`);
  }
  out.push(
    `Run ${doc.startedAt.slice(0, 10)} with ${
      flags.join(", ")
    }, ${doc.concurrency} server${
      doc.concurrency === 1 ? "" : "s"
    } at a time, in ${
      formatDuration(doc.durationMs)
    }; each server started afresh by the suite (\`--spawn\`):`,
  );
  out.push("");
  for (const s of servers) {
    const limit = s.maxClients !== null
      ? ` (declared \`--max-clients ${s.maxClients}\`)`
      : "";
    const status = s.status === "ran" ? "" : ` — **not run**: ${s.error}`;
    out.push(
      `- **${
        cell(s.name)
      }**: ${s.description}; \`${s.spawn}\`${limit}${status}`,
    );
  }
  return out.join("\n") + "\n";
}
