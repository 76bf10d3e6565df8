/**
 * Plain-text pieces shared by the reporters (pretty, TAP, JUnit, HTML):
 * verdict labels, times, findings and trace events as lines.
 *
 * @module
 */

import type { CaseResult, Finding, TraceEvent } from "../types.ts";

/**
 * A verdict as a short upper-case label.
 *
 * @example
 * ```ts
 * import { verdictLabel } from "./_text.ts";
 * console.log(verdictLabel("non-strict")); // "NON-STRICT"
 * ```
 */
export function verdictLabel(verdict: CaseResult["verdict"]): string {
  return verdict === "non-strict" ? "NON-STRICT" : verdict.toUpperCase();
}

/**
 * A case's (or a run's) wall time: whole ms under a second, else seconds
 * with one decimal.
 *
 * @example
 * ```ts
 * import { formatElapsed } from "./_text.ts";
 * console.log(formatElapsed(12.4), formatElapsed(1440)); // "12 ms" "1.4 s"
 * ```
 */
export function formatElapsed(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * The lines describing a finding: its message, then evidence per client.
 *
 * @example
 * ```ts
 * import { findingLines } from "./_text.ts";
 * console.log(findingLines({ severity: "fail", clause: "§2.2", message: "echo", received: { A: ["x"] } }));
 * // [ "[fail] §2.2 echo", '  received at A: "x"' ]
 * ```
 */
export function findingLines(finding: Finding): string[] {
  const lines = [`[${finding.severity}] ${finding.clause} ${finding.message}`];
  const clients = new Set([
    ...Object.keys(finding.expected ?? {}),
    ...Object.keys(finding.received ?? {}),
  ]);
  for (const client of clients) {
    const expected = finding.expected?.[client];
    const received = finding.received?.[client];
    if (expected) lines.push(`  expected at ${client}: ${quoteAll(expected)}`);
    if (received) lines.push(`  received at ${client}: ${quoteAll(received)}`);
  }
  if (finding.data) {
    lines.push(
      `  data: ${
        Object.entries(finding.data).map(([k, v]) => `${k}=${v}`).join(" ")
      }`,
    );
  }
  return lines;
}

function quoteAll(lines: readonly string[]): string {
  if (lines.length === 0) return "(nothing)";
  const shown = lines.slice(0, 12).map((l) =>
    l.startsWith("… ") ? l : `"${l}"`
  );
  return shown.join(" | ") +
    (lines.length > 12 ? ` | … ${lines.length - 12} more` : "");
}

/**
 * One trace event as a line.
 *
 * @example
 * ```ts
 * import { traceLine } from "./_text.ts";
 * console.log(traceLine({ t: 1.5, client: "A", event: "send", data: "hi\\n", bytes: 3 }));
 * // '     1.500 ms  A        send       "hi\n"  (3B)'
 * ```
 */
export function traceLine(event: TraceEvent): string {
  const t = event.t.toFixed(3).padStart(10);
  const extra = [
    event.bytes !== undefined ? `${event.bytes}B` : "",
    event.terminator ?? "",
  ].filter(Boolean).join(" ");
  const data = event.data === undefined
    ? ""
    : event.event === "note" || event.event === "error" ||
        event.event === "timeout" ||
        event.event === "reset" || event.event === "connect"
    ? ` ${event.data}`
    : ` "${event.data}"`;
  return `${t} ms  ${event.client.padEnd(8)} ${event.event.padEnd(10)}${data}${
    extra ? `  (${extra})` : ""
  }`;
}

/**
 * `n thing` or `n things`.
 *
 * @example
 * ```ts
 * import { plural } from "./_text.ts";
 * console.log(plural(1, "case"), plural(2, "crash")); // "1 case" "2 crashes"
 * ```
 */
export function plural(n: number, word: string): string {
  const many = /(s|sh|ch|x)$/.test(word) ? `${word}es` : `${word}s`;
  return `${n} ${n === 1 ? word : many}`;
}
