/**
 * What every attack reports, and how it is printed: a header with the
 * command that reruns it, one table per aspect, and a one-line verdict.
 *
 * @module
 */

import type { LatencySummary } from "../latency_histogram.ts";
import { formatCount, formatMs } from "../units.ts";
import type { LogEvent, TargetExit } from "./target.ts";

/** One server run of an attack (`per-ip` and `slowloris` make two). */
export interface ServerRun {
  /** What this run is, e.g. `as given`, `--max-clients-per-ip 100`. */
  label: string;
  /** The command as run (`{port}` filled in), or the address. */
  command: string;
  /** Its process id, when known. */
  pid: number | undefined;
  /** How it ended (spawned servers only). */
  exit: TargetExit | undefined;
}

/** What an attack's run gives back: its measurements and its servers. */
export interface AttackRun<R> {
  /** The measurements. */
  result: R;
  /** The server runs, in order. */
  servers: ServerRun[];
}

/** The full report of one attack, as `--json` prints it. */
export interface AttackReport<R = unknown> {
  /** The attack's name. */
  attack: string;
  /** The command line that reruns it with the same settings. */
  rerun: string;
  /** When it started (ISO 8601). */
  startedAt: string;
  /** How long it took in all, seconds. */
  seconds: number;
  /** The server runs, in order. */
  servers: ServerRun[];
  /** One line: what the server did. */
  verdict: string;
  /** The attack's own measurements. */
  result: R;
}

/** A table: rows of cells, with an optional header row. */
export interface Table {
  /** Printed above the table. */
  title: string;
  /** Column names; without them, the first column holds row labels. */
  header?: string[];
  /** The rows. */
  rows: string[][];
}

/**
 * Renders a table as aligned text columns (two spaces apart), with a
 * rule under the header.
 *
 * @example
 * ```ts
 * import { renderTable } from "./report.ts";
 * console.log(renderTable({ title: "t", header: ["a", "bb"], rows: [["1", "2"]] }));
 * // t
 * //   a  bb
 * //   -  --
 * //   1  2
 * ```
 */
export function renderTable(table: Table): string {
  const rows = table.header ? [table.header, ...table.rows] : table.rows;
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    }
  }
  const line = (row: string[]) =>
    "  " +
    row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i]))
      .join("  ");
  const out = [table.title];
  if (table.header) {
    out.push(line(table.header));
    out.push(line(table.header.map((_, i) => "-".repeat(widths[i]))));
    for (const row of table.rows) out.push(line(row));
  } else {
    for (const row of table.rows) out.push(line(row));
  }
  return out.join("\n");
}

/**
 * Renders a whole report: header, server runs, tables, verdict.
 *
 * @example
 * ```ts
 * import { formatReport } from "./report.ts";
 * const text = formatReport({
 *   attack: "reset", rerun: "deno task attack reset", startedAt: "", seconds: 1,
 *   servers: [], verdict: "ok", result: {},
 * }, []);
 * console.log(text.split("\n")[1]); // "rerun    deno task attack reset"
 * ```
 */
export function formatReport(report: AttackReport, tables: Table[]): string {
  const out = [
    `linechat attack ${report.attack} (${report.startedAt}, ${
      report.seconds.toFixed(1)
    } s)`,
    `rerun    ${report.rerun}`,
  ];
  for (const server of report.servers) {
    out.push(
      `server   ${server.label}: ${server.command}${
        server.pid === undefined ? "" : ` (pid ${server.pid})`
      }${server.exit ? `; ${describeExit(server.exit)}` : ""}`,
    );
  }
  for (const table of tables) out.push("", renderTable(table));
  out.push("", `verdict  ${report.verdict}`);
  return out.join("\n");
}

/**
 * How a server ended, in words.
 *
 * @example
 * ```ts
 * import { describeExit } from "./report.ts";
 * console.log(describeExit({
 *   code: 0, signal: null, diedEarly: false, stopMs: 120, killed: false, stderrTail: "",
 * })); // "stopped by SIGTERM in 120 ms, exit code 0"
 * ```
 */
export function describeExit(exit: TargetExit): string {
  const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
  if (exit.diedEarly) {
    const last = exit.stderrTail.split("\n").filter((l) => l.trim()).at(-1);
    return `DIED during the attack (${how})${last ? `: ${last.trim()}` : ""}`;
  }
  if (exit.killed) return `did not stop on SIGTERM; killed (${how})`;
  return `stopped by SIGTERM in ${exit.stopMs} ms, ${how}`;
}

/**
 * Latency as one cell: `p50 1.2  p99 5.3  max 9.9 ms (N)`.
 *
 * @example
 * ```ts
 * import { latencyCell } from "./report.ts";
 * console.log(latencyCell({ count: 3, mean: 2, p50: 1.2, p90: 4, p99: 5.3, p999: 9, max: 9.9 }));
 * // "p50 1.20  p99 5.30  max 9.90 ms  (3 lines)"
 * ```
 */
export function latencyCell(summary: LatencySummary): string {
  if (summary.count === 0) return "no lines";
  return `p50 ${formatMs(summary.p50)}  p99 ${formatMs(summary.p99)}  max ${
    formatMs(summary.max)
  } ms  (${formatCount(summary.count)} lines)`;
}

/**
 * Seconds with one decimal, or `–` for none.
 *
 * @example
 * ```ts
 * import { seconds } from "./report.ts";
 * console.log(seconds(1234), seconds(undefined)); // "1.2 s" "–"
 * ```
 */
export function seconds(ms: number | undefined | null): string {
  return ms === undefined || ms === null ? "–" : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * A share as a percentage with one decimal (none for whole numbers).
 *
 * @example
 * ```ts
 * import { percent } from "./report.ts";
 * console.log(percent(191, 500), percent(0, 0)); // "38.2 %" "0 %"
 * ```
 */
export function percent(part: number, whole: number): string {
  if (whole === 0 || part === 0) return "0 %";
  const value = (part / whole) * 100;
  return `${Number.isInteger(value) ? value : value.toFixed(1)} %`;
}

/** When connections were cut: how many, and the first, median and last time. */
export interface CutTimes {
  /** How many. */
  count: number;
  /** Earliest, ms from the attack's start. */
  firstMs: number | null;
  /** Median, ms. */
  medianMs: number | null;
  /** Latest, ms. */
  lastMs: number | null;
}

/**
 * Summarises cut times (ms from the start).
 *
 * @example
 * ```ts
 * import { cutTimes } from "./report.ts";
 * console.log(cutTimes([300, 100, 200])); // { count: 3, firstMs: 100, medianMs: 200, lastMs: 300 }
 * ```
 */
export function cutTimes(times: readonly number[]): CutTimes {
  const sorted = [...times].sort((a, b) => a - b);
  return {
    count: sorted.length,
    firstMs: sorted.length ? Math.round(sorted[0]) : null,
    medianMs: sorted.length
      ? Math.round(sorted[Math.floor((sorted.length - 1) / 2)])
      : null,
    lastMs: sorted.length ? Math.round(sorted[sorted.length - 1]) : null,
  };
}

/**
 * Cut times as one cell: `3 (first 0.1 s, median 0.2 s, last 0.3 s)`.
 *
 * @example
 * ```ts
 * import { cutTimesCell } from "./report.ts";
 * console.log(cutTimesCell({ count: 0, firstMs: null, medianMs: null, lastMs: null }, 50));
 * // "0 of 50"
 * ```
 */
export function cutTimesCell(cuts: CutTimes, of: number): string {
  if (cuts.count === 0) return `0 of ${formatCount(of)}`;
  return `${formatCount(cuts.count)} of ${formatCount(of)} (first at ${
    seconds(cuts.firstMs)
  }, median ${seconds(cuts.medianMs)}, last ${seconds(cuts.lastMs)})`;
}

/**
 * Close reasons of linechat's JSON log for the connections from
 * `clientPorts`, counted: `slow-consumer limit=max-pending-bytes` → 12.
 * Only disconnects logged before `untilMs` (epoch ms) count, so the
 * harness's own closing at the end is left out.
 *
 * @example
 * ```ts
 * import { closeReasons } from "./report.ts";
 * const events = [{ atMs: 5, event: "disconnect",
 *   fields: { addr: "127.0.0.1:4000", reason: "slow-consumer", limit: "write-timeout" } }];
 * console.log(closeReasons(events, new Set([4000]), 10));
 * // { "slow-consumer limit=write-timeout": 1 }
 * ```
 */
export function closeReasons(
  events: readonly LogEvent[],
  clientPorts: ReadonlySet<number>,
  untilMs: number,
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { atMs, event, fields } of events) {
    if (event !== "disconnect" || atMs > untilMs) continue;
    const addr = String(fields.addr ?? "");
    const port = Number(addr.slice(addr.lastIndexOf(":") + 1));
    if (!clientPorts.has(port)) continue;
    const reason = `${fields.reason}${
      fields.limit ? ` limit=${fields.limit}` : ""
    }`;
    counts[reason] = (counts[reason] ?? 0) + 1;
  }
  return counts;
}

/**
 * Counts as one cell: `slow-consumer ×3, eof ×1`, or `none`.
 *
 * @example
 * ```ts
 * import { countsCell } from "./report.ts";
 * console.log(countsCell({ eof: 1, "slow-consumer": 3 })); // "slow-consumer ×3, eof ×1"
 * ```
 */
export function countsCell(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return "none";
  return entries.map(([key, n]) => `${key} ×${formatCount(n)}`).join(", ");
}
