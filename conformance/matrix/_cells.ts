// What the Markdown table and the HTML dashboard both show in a cell: the
// verdict symbol, a crash mark, and for INFO cases the measured value.

import type { DataValue } from "../types.ts";
import type {
  MatrixCase,
  MatrixCell,
  MatrixDocument,
  MatrixVerdict,
} from "./json.ts";

/** Symbol and meaning of each verdict, in legend order. */
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

/** Marks a cell whose case the server process died in. */
export const CRASH_SYMBOL = "💥";

/** The symbol of a verdict. */
export function symbolOf(verdict: MatrixVerdict): string {
  return VERDICT_SYMBOLS.find((s) => s.verdict === verdict)?.symbol ?? "?";
}

/** A measurement shown in people's units, by its name's suffix. */
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

/** The first numeric measurement of an INFO cell, formatted, or "". */
export function infoValue(cell: MatrixCell): string {
  if (cell.verdict !== "info") return "";
  const entry = Object.entries(cell.measurements)
    .find(([, value]) => typeof value === "number");
  return entry ? formatValue(entry[0], entry[1]) : "";
}

/** A cell's text: symbol, value for INFO, crash mark. */
export function cellText(cell: MatrixCell): string {
  const value = infoValue(cell);
  return [
    symbolOf(cell.verdict),
    value,
    cell.crashed ? CRASH_SYMBOL : "",
  ].filter((part) => part !== "").join(" ");
}

/** Rows grouped by area, in document order. */
export function byArea(doc: MatrixDocument): [string, MatrixCase[]][] {
  const groups = new Map<string, MatrixCase[]>();
  for (const row of doc.cases) {
    const group = groups.get(row.area) ?? [];
    group.push(row);
    groups.set(row.area, group);
  }
  return [...groups];
}

/** Verdict counts per server, over the document's rows. */
export function countVerdicts(
  doc: MatrixDocument,
  serverId: string,
): Record<MatrixVerdict, number> {
  const counts: Record<MatrixVerdict, number> = {
    pass: 0,
    fail: 0,
    "non-strict": 0,
    flaky: 0,
    info: 0,
    skipped: 0,
    "not-run": 0,
  };
  for (const row of doc.cases) counts[row.verdicts[serverId].verdict]++;
  return counts;
}

/** Milliseconds as `1 min 23 s` or `12.3 s`. */
export function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}
