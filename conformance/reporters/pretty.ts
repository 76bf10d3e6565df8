/**
 * The pretty reporter: live progress on a terminal, then the evidence for
 * every case that did not pass and a summary table.
 *
 * @module
 */

import type { ProgressEvent } from "../run_options.ts";
import {
  type CaseResult,
  type Report,
  type Verdict,
  VERDICTS,
} from "../types.ts";
import {
  findingLines,
  formatElapsed,
  plural,
  traceLine,
  verdictLabel,
} from "./_text.ts";

/**
 * Options for {@linkcode formatPretty} and {@linkcode LiveProgress}.
 *
 * @example
 * ```ts
 * import type { PrettyOptions } from "./pretty.ts";
 * const options: PrettyOptions = { color: false, verbose: true };
 * console.log(options.verbose);
 * ```
 */
export interface PrettyOptions {
  /**
   * Use ANSI colours.
   *
   * @default {false}
   */
  color?: boolean;
  /**
   * Print the full wire trace of every case with a trace, not only the end
   * of the trace of the cases that did not pass.
   *
   * @default {false}
   */
  verbose?: boolean;
  /**
   * List every case's result line (when no live progress printed them).
   *
   * @default {true}
   */
  listCases?: boolean;
}

const COLORS: Record<Verdict, string> = {
  pass: "\x1b[32m",
  info: "\x1b[36m",
  skipped: "\x1b[90m",
  "non-strict": "\x1b[33m",
  flaky: "\x1b[35m",
  fail: "\x1b[31m",
};
const SYMBOLS: Record<Verdict, string> = {
  pass: "✓",
  info: "ℹ",
  skipped: "-",
  "non-strict": "~",
  flaky: "?",
  fail: "✗",
};

function paint(text: string, verdict: Verdict, color: boolean): string {
  return color ? `${COLORS[verdict]}${text}\x1b[0m` : text;
}

/**
 * One result as a line: symbol, verdict, id, clause, level, time, and the
 * message for anything but a plain pass.
 *
 * @example
 * ```ts ignore
 * import { resultLine } from "./pretty.ts";
 * console.log(resultLine(result));
 * ```
 */
export function resultLine(c: CaseResult, color = false): string {
  const head = `${SYMBOLS[c.verdict]} ${verdictLabel(c.verdict).padEnd(10)}`;
  const line =
    `${paint(head, c.verdict, color)} ${c.id.padEnd(36)} ${
      c.clause.padEnd(6)
    } ` +
    `${c.level.padEnd(6)} ${formatElapsed(c.durationMs).padStart(7)}`;
  return c.verdict === "pass" ? line : `${line}  ${c.message}`;
}

/**
 * Shows progress as a run goes: on a terminal a status line that is
 * rewritten, and a result line per case.
 *
 * @example
 * ```ts ignore
 * import { LiveProgress } from "./pretty.ts";
 * const live = new LiveProgress((s) => Deno.stdout.writeSync(new TextEncoder().encode(s)), { tty: true });
 * await runConformance({ targets: ["127.0.0.1:7687"], onProgress: (e) => live.handle(e) });
 * ```
 */
export class LiveProgress {
  readonly #write: (text: string) => void;
  readonly #tty: boolean;
  readonly #color: boolean;

  /** Creates the display; `tty` enables the rewritten status line. */
  constructor(
    write: (text: string) => void,
    options: { tty?: boolean; color?: boolean } = {},
  ) {
    this.#write = write;
    this.#tty = options.tty ?? false;
    this.#color = options.color ?? false;
  }

  /** Shows one progress event. */
  handle(event: ProgressEvent): void {
    const clear = this.#tty ? "\r\x1b[2K" : "";
    switch (event.type) {
      case "start":
        this.#write(
          `linechat conformance: ${plural(event.total, "case")} against ${
            event.targets.join(", ")
          }\n`,
        );
        break;
      case "case-start":
        if (this.#tty) {
          this.#write(
            `${clear}  [${
              event.index + 1
            }/${event.total}] ${event.definition.id} …`,
          );
        }
        break;
      case "case-end":
        this.#write(`${clear}${resultLine(event.result, this.#color)}\n`);
        break;
      case "server":
        this.#write(`${clear}  (${event.message})\n`);
        break;
    }
  }
}

/**
 * Formats the report for people: (optionally) every result line, then the
 * findings, evidence and trace of each case that did not pass, the INFO
 * measurements, and a summary table by area.
 *
 * @example
 * ```ts ignore
 * import { formatPretty } from "./pretty.ts";
 * console.log(formatPretty(report, { color: true }));
 * ```
 */
export function formatPretty(
  report: Report,
  options: PrettyOptions = {},
): string {
  const color = options.color ?? false;
  const out: string[] = [];
  if (options.listCases ?? true) {
    out.push(`linechat conformance against ${report.targets.join(", ")}`, "");
    for (const c of report.cases) out.push(resultLine(c, color));
    out.push("");
  }
  const troubled = report.cases.filter((c) =>
    ["fail", "flaky", "non-strict"].includes(c.verdict)
  );
  if (troubled.length > 0) {
    out.push("", "Evidence", "========");
    for (const c of troubled) {
      out.push(
        "",
        paint(
          `${SYMBOLS[c.verdict]} ${verdictLabel(c.verdict)} ${c.id}`,
          c.verdict,
          color,
        ) +
          ` (${c.clause} ${c.level}): ${c.requirement}`,
      );
      for (const finding of c.findings) {
        for (const line of findingLines(finding)) out.push(`    ${line}`);
      }
      const trace = c.trace ?? [];
      if (trace.length > 0) {
        const shown = options.verbose ? trace : trace.slice(-25);
        out.push(
          shown.length < trace.length
            ? `    wire trace (last ${shown.length} of ${trace.length} events; -v for all):`
            : "    wire trace:",
        );
        for (const event of shown) out.push(`      ${traceLine(event)}`);
      }
      if (c.serverOutput?.trim()) {
        const lines = c.serverOutput.trimEnd().split("\n");
        out.push(
          `    server output (last ${Math.min(10, lines.length)} lines):`,
        );
        for (const line of lines.slice(-10)) out.push(`      | ${line}`);
      }
    }
  }
  if (options.verbose) {
    const traced = report.cases.filter((c) => !troubled.includes(c) && c.trace);
    for (const c of traced) {
      out.push("", `${c.id} (${verdictLabel(c.verdict)}) wire trace:`);
      for (const event of c.trace!) out.push(`  ${traceLine(event)}`);
    }
  }
  const measured = report.cases.filter((c) =>
    c.verdict === "info" || Object.keys(c.measurements).length > 0
  );
  if (measured.length > 0) {
    out.push("", "Measurements", "============");
    for (const c of measured) {
      const values = Object.entries(c.measurements)
        .map(([k, v]) =>
          `${k}=${typeof v === "number" ? Math.round(v * 100) / 100 : v}`
        )
        .join(" ");
      out.push(`  ${c.id.padEnd(36)} ${values}`);
    }
  }
  out.push("", "Summary", "=======", summaryTable(report, color));
  const s = report.summary;
  const server = report.server;
  out.push(
    "",
    `Server output terminator: ${
      {
        crlf: "CR LF",
        lf: "LF alone (breaks §2.5)",
        mixed: "mixed CR LF and LF",
        unknown: "unknown",
      }[
        server.outputTerminator
      ]
    } (${plural(server.linesReceived, "line")} received)`,
  );
  if (report.spawn) {
    out.push(
      `Spawned: ${report.spawn.command}; ${
        plural(report.spawn.restarts, "restart")
      }, ` +
        `${plural(report.spawn.crashes.length, "crash")}` +
        (report.spawn.crashes.length > 0
          ? ` (during ${report.spawn.crashes.map((c) => c.caseId).join(", ")})`
          : ""),
    );
  }
  out.push(
    `Result: ${s.counted} of ${plural(s.total, "case")} failed at level ` +
      `${report.options.level} → exit ${s.exitCode} (${
        formatElapsed(report.durationMs)
      })`,
  );
  return `${out.join("\n")}\n`;
}

function summaryTable(report: Report, color: boolean): string {
  const columns = VERDICTS;
  const areas = [...new Set(report.cases.map((c) => c.area))];
  const rows = areas.map((area) => {
    const cases = report.cases.filter((c) => c.area === area);
    return [
      area,
      ...columns.map((v) => cases.filter((c) => c.verdict === v).length),
    ];
  });
  rows.push(["total", ...columns.map((v) => report.summary[v])]);
  const header = ["area", ...columns].map((h, i) =>
    i === 0 ? h.padEnd(16) : h.padStart(11)
  ).join("");
  const lines = [header];
  for (const row of rows) {
    lines.push(
      row.map((cell, i) => {
        if (i === 0) return String(cell).padEnd(16);
        const text = String(cell).padStart(11);
        return cell !== 0 && color ? paint(text, columns[i - 1], true) : text;
      }).join(""),
    );
  }
  return lines.join("\n");
}
