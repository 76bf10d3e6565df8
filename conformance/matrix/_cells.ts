/**
 * What the Markdown table and the HTML dashboard both show in a cell: the
 * verdict symbol, a crash mark, and for INFO cases the measured value;
 * rows by area, counts per server, run times.
 *
 * @module
 */

import { type DataValue, VERDICTS } from "../types.ts";
import type {
  MatrixCase,
  MatrixCell,
  MatrixDocument,
  MatrixVerdict,
} from "./json.ts";

/**
 * Symbol and meaning of each verdict, in legend order.
 *
 * @example
 * ```ts
 * import { VERDICT_SYMBOLS } from "./_cells.ts";
 * console.log(VERDICT_SYMBOLS[0]); // { verdict: "pass", symbol: "✅", meaning: "pass: the requirement holds" }
 * ```
 */
export const VERDICT_SYMBOLS: readonly {
  verdict: MatrixVerdict;
  symbol: string;
  meaning: string;
}[] = [
  { verdict: "pass", symbol: "✅", meaning: "pass: the requirement holds" },
  {
    verdict: "fail",
    symbol: "❌",
    meaning: "fail: a MUST is broken",
  },
  {
    verdict: "non-strict",
    symbol: "⚠️",
    meaning: "non-strict: a SHOULD is broken (works, but worse)",
  },
  {
    verdict: "flaky",
    symbol: "🎲",
    meaning: "flaky: failed, then passed when retried (counted as a failure)",
  },
  {
    verdict: "timeout",
    symbol: "⏱️",
    meaning:
      "timeout: reached its deadline before it could judge (counted as a failure)",
  },
  {
    verdict: "info",
    symbol: "ℹ️",
    meaning: "info: a measurement with no pass mark (value shown)",
  },
  {
    verdict: "skipped",
    symbol: "⏭️",
    meaning: "skipped: not measurable here (the report says why)",
  },
  {
    verdict: "not-run",
    symbol: "—",
    meaning: "not run: the server was unavailable or its run broke off",
  },
];

/**
 * Marks a cell whose case the server process died in.
 *
 * @example
 * ```ts
 * import { CRASH_SYMBOL } from "./_cells.ts";
 * console.log(CRASH_SYMBOL); // "💥"
 * ```
 */
export const CRASH_SYMBOL = "💥";

/**
 * The symbol of a verdict.
 *
 * @example
 * ```ts
 * import { symbolOf } from "./_cells.ts";
 * console.log(symbolOf("fail")); // "❌"
 * ```
 */
export function symbolOf(verdict: MatrixVerdict): string {
  return VERDICT_SYMBOLS.find((s) => s.verdict === verdict)?.symbol ?? "?";
}

/**
 * A measurement shown in people's units, by its name's suffix.
 *
 * @example
 * ```ts
 * import { formatValue } from "./_cells.ts";
 * console.log(formatValue("largestLineBytes", 65536), formatValue("latencyP99Ms", 2.345)); // "64 KiB" "2.3 ms"
 * ```
 */
export function formatValue(name: string, value: DataValue): string {
  if (typeof value !== "number") return String(value);
  if (/Bytes$/.test(name)) {
    if (value >= 1024 * 1024 && value % (1024 * 1024) === 0) {
      return `${value / (1024 * 1024)} MiB`;
    }
    if (value >= 1024 && value % 1024 === 0) return `${value / 1024} KiB`;
    return `${value.toLocaleString("en-US")} B`;
  }
  if (/Ms$/.test(name)) return `${Math.round(value * 10) / 10} ms`;
  return value.toLocaleString("en-US");
}

/**
 * The first numeric measurement of an INFO cell, formatted, or "".
 *
 * @example
 * ```ts
 * import { infoValue } from "./_cells.ts";
 * console.log(infoValue({ verdict: "info", message: "", attempts: 1, crashed: false, measurements: { largestLineBytes: 1048576 } }));
 * // "1 MiB"
 * ```
 */
export function infoValue(cell: MatrixCell): string {
  if (cell.verdict !== "info") return "";
  const entry = Object.entries(cell.measurements)
    .find(([, value]) => typeof value === "number");
  return entry ? formatValue(entry[0], entry[1]) : "";
}

/**
 * A cell's text: symbol, value for INFO, crash mark.
 *
 * @example
 * ```ts
 * import { matrixCellText } from "./_cells.ts";
 * console.log(matrixCellText({ verdict: "fail", message: "", attempts: 1, crashed: true, measurements: {} })); // "❌ 💥"
 * ```
 */
export function matrixCellText(cell: MatrixCell): string {
  const value = infoValue(cell);
  return [
    symbolOf(cell.verdict),
    value,
    cell.crashed ? CRASH_SYMBOL : "",
  ].filter((part) => part !== "").join(" ");
}

/**
 * Rows grouped by area, in document order.
 *
 * @example
 * ```ts
 * import { byArea } from "./_cells.ts";
 * import type { MatrixDocument } from "./json.ts";
 * const doc = { cases: [{ id: "relay.basic", area: "relay" }, { id: "framing.lf", area: "framing" }] } as unknown as MatrixDocument;
 * console.log(byArea(doc).map(([area]) => area)); // [ "relay", "framing" ]
 * ```
 */
export function byArea(doc: MatrixDocument): [string, MatrixCase[]][] {
  const groups = new Map<string, MatrixCase[]>();
  for (const row of doc.cases) {
    const group = groups.get(row.area) ?? [];
    group.push(row);
    groups.set(row.area, group);
  }
  return [...groups];
}

/**
 * Verdict counts per server, over the document's rows.
 *
 * @example
 * ```ts
 * import { countVerdicts } from "./_cells.ts";
 * import type { MatrixDocument } from "./json.ts";
 * const doc = { cases: [{ verdicts: { ours: { verdict: "pass" } } }] } as unknown as MatrixDocument;
 * console.log(countVerdicts(doc, "ours").pass); // 1
 * ```
 */
export function countVerdicts(
  doc: MatrixDocument,
  serverId: string,
): Record<MatrixVerdict, number> {
  const counts = Object.fromEntries(
    [...VERDICTS, "not-run"].map((verdict) => [verdict, 0]),
  ) as Record<MatrixVerdict, number>;
  for (const row of doc.cases) counts[row.verdicts[serverId].verdict]++;
  return counts;
}

/**
 * Milliseconds as `1 min 23 s` or `12.3 s`.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./_cells.ts";
 * console.log(formatDuration(12_300), formatDuration(83_000)); // "12.3 s" "1 min 23 s"
 * ```
 */
export function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}
