/**
 * The pretty reporter: live progress on a terminal (the run's bound, the
 * measured latency and any root cause found before the cases first, then
 * a line per case), then the root causes with the cases each explains,
 * the evidence for every other case that did not pass, and a summary
 * table.
 *
 * @module
 */

import { formatDuration } from "../duration.ts";
import type { ProgressEvent } from "../run_options.ts";
import {
  type CaseResult,
  type Diagnosis,
  type Latency,
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

/**
 * The line that opens a run: what runs against what, and the bound it
 * ends within.
 *
 * @example
 * ```ts
 * import { startLine } from "./pretty.ts";
 * console.log(startLine(52, ["127.0.0.1:7687"], { ms: 360_000, fromDeadline: true }, 1));
 * // "linechat conformance: 52 cases against 127.0.0.1:7687; at most 6 min at --timeout-scale 1 (--deadline)"
 * ```
 */
export function startLine(
  total: number,
  targets: readonly string[],
  bound: { ms: number; fromDeadline: boolean },
  timeoutScale: number,
): string {
  return `linechat conformance: ${plural(total, "case")} against ${
    targets.join(", ")
  }; at most ${formatDuration(bound.ms)} at --timeout-scale ${timeoutScale}` +
    (bound.fromDeadline ? " (--deadline)" : "");
}

/**
 * The measured latency in one line.
 *
 * @example
 * ```ts
 * import { latencyLine } from "./pretty.ts";
 * console.log(latencyLine({ medianMs: 0.31, p99Ms: 0.9, rounds: 20, waitScale: 1 }));
 * // "latency: a line to another client and back takes 0.31 ms (median of 20), p99 0.9 ms; waits ×1"
 * ```
 */
export function latencyLine(latency: Latency | null): string {
  if (latency === null) {
    return "latency: not measured (no round trip completed)";
  }
  return `latency: a line to another client and back takes ${latency.medianMs} ms ` +
    `(median of ${latency.rounds}), p99 ${latency.p99Ms} ms; waits ×${latency.waitScale}`;
}

/**
 * A root cause as the lines that show it: the cause, what to do, and the
 * cases it explains.
 *
 * @example
 * ```ts
 * import { diagnosisLines } from "./pretty.ts";
 * console.log(diagnosisLines({ id: "decorated", severity: "fail", clause: "§2.4", message: "prefixes", cases: ["relay.basic"], stopped: false }));
 * // [ "✗ root cause (§2.4): prefixes", "    explains 1 case: relay.basic" ]
 * ```
 */
export function diagnosisLines(diagnosis: Diagnosis): string[] {
  const mark = diagnosis.severity === "fail"
    ? "✗"
    : diagnosis.severity === "non-strict"
    ? "~"
    : "ℹ";
  const lines = [
    `${mark} root cause (${diagnosis.clause}): ${diagnosis.message}`,
  ];
  if (diagnosis.hint) lines.push(`    → ${diagnosis.hint}`);
  if (diagnosis.cases.length > 0) {
    const shown = diagnosis.cases.slice(0, 12).join(", ");
    lines.push(
      `    ${diagnosis.severity === "info" ? "seen in" : "explains"} ${
        plural(diagnosis.cases.length, "case")
      }: ${shown}` +
        (diagnosis.cases.length > 12
          ? `, … ${diagnosis.cases.length - 12} more`
          : ""),
    );
  }
  if (diagnosis.stopped) {
    lines.push("    the run stopped here (--keep-going runs every case)");
  }
  return lines;
}

const COLORS: Record<Verdict, string> = {
  pass: "\x1b[32m",
  info: "\x1b[36m",
  skipped: "\x1b[90m",
  "non-strict": "\x1b[33m",
  flaky: "\x1b[35m",
  timeout: "\x1b[31m",
  fail: "\x1b[31m",
};
const SYMBOLS: Record<Verdict, string> = {
  pass: "✓",
  info: "ℹ",
  skipped: "-",
  "non-strict": "~",
  flaky: "?",
  timeout: "⏱",
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
  if (c.verdict === "pass") return line;
  const uncounted = c.level === "INFO" && c.verdict !== "info" &&
      c.verdict !== "skipped"
    ? " (INFO: not counted)"
    : "";
  const cause = c.cause !== undefined ? ` [root cause: ${c.cause}]` : "";
  return `${line}  ${c.message}${uncounted}${cause}`;
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
  readonly #verbose: boolean;

  /**
   * Creates the display; `tty` enables the rewritten status line,
   * `verbose` shows every restart of the server (else only those after a
   * crash).
   */
  constructor(
    write: (text: string) => void,
    options: { tty?: boolean; color?: boolean; verbose?: boolean } = {},
  ) {
    this.#write = write;
    this.#tty = options.tty ?? false;
    this.#color = options.color ?? false;
    this.#verbose = options.verbose ?? false;
  }

  /** Shows one progress event. */
  handle(event: ProgressEvent): void {
    const clear = this.#tty ? "\r\x1b[2K" : "";
    switch (event.type) {
      case "start":
        this.#write(
          `${
            startLine(event.total, event.targets, {
              ms: event.boundMs,
              fromDeadline: event.fromDeadline,
            }, event.timeoutScale)
          }\n`,
        );
        break;
      case "preflight":
        this.#write(`${clear}${latencyLine(event.latency)}\n`);
        for (const diagnosis of event.diagnoses) {
          for (const line of diagnosisLines(diagnosis)) {
            this.#write(`${line}\n`);
          }
        }
        break;
      case "stopped":
        this.#write(`${clear}stopping: ${event.message}\n`);
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
        // A restart after a crash matters; the others (a fresh server after
        // a failure, before a memory case) only with -v.
        if (event.reason === "crash" || this.#verbose) {
          this.#write(`${clear}  (${event.message})\n`);
        }
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
    out.push(
      startLine(
        report.cases.length,
        report.targets,
        report.bound,
        report.options.timeoutScale,
      ),
      latencyLine(report.latency),
      "",
    );
    for (const c of report.cases) out.push(resultLine(c, color));
    out.push("");
  }
  const diagnoses = report.diagnoses.filter((d) =>
    d.severity !== "info" || d.cases.length > 0
  );
  if (diagnoses.length > 0) {
    out.push("", "Root causes", "===========");
    for (const diagnosis of diagnoses) {
      out.push("", ...diagnosisLines(diagnosis));
    }
  }
  const troubled = report.cases.filter((c) =>
    ["fail", "flaky", "non-strict", "timeout"].includes(c.verdict)
  );
  // A case a root cause explains shows its evidence only if it is the
  // first of that cause (the others would repeat it).
  const shownCauses = new Set<string>();
  if (troubled.length > 0) {
    out.push("", "Evidence", "========");
    for (const c of troubled) {
      const explained = c.cause !== undefined &&
        report.diagnoses.some((d) => d.id === c.cause);
      if (explained && shownCauses.has(c.cause!) && !options.verbose) {
        out.push(
          "",
          `${SYMBOLS[c.verdict]} ${
            verdictLabel(c.verdict)
          } ${c.id}: ${c.message} ` +
            `(root cause ${c.cause}, shown above; -v for its evidence)`,
        );
        continue;
      }
      if (explained) shownCauses.add(c.cause!);
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
        // Escaped when recorded: no raw control bytes reach the terminal.
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
  if (report.dialect) {
    out.push("Dialect: judged through it, with these relaxations:");
    for (const line of report.dialect.relaxations) out.push(`  - ${line}`);
    for (const { clause, reason } of report.dialect.notApplicable) {
      out.push(`  - ${clause} not applicable: ${reason}`);
    }
  }
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
  const stopped = report.diagnoses.find((d) => d.stopped);
  out.push(
    `Result: ${s.counted} of ${plural(s.total, "case")} failed at level ` +
      `${report.options.level} → exit ${s.exitCode} (${
        formatElapsed(report.durationMs)
      } of at most ${formatDuration(report.bound.ms)})` +
      (stopped ? `; stopped early on a root cause: ${stopped.id}` : ""),
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
