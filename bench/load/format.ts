/**
 * `deno task load`'s output: the report as text for a terminal, one
 * labelled line per aspect, and the exit status a report calls for.
 *
 * @module
 */

import type { LatencySummary } from "../latency_histogram.ts";
import { formatBytes, formatCount, formatMs } from "../units.ts";
import type { LoadReport } from "./report.ts";

/**
 * The exit status for a report: 0 valid and nothing lost, 1 failed, 3
 * completed but invalid or with delivery errors.
 *
 * @example
 * ```ts ignore
 * import { exitCodeOf } from "./format.ts";
 * Deno.exit(exitCodeOf(report));
 * ```
 */
export function exitCodeOf(report: LoadReport): number {
  if (report.failure) return 1;
  const a = report.accounting;
  const clean = a.lost === 0 && a.duplicated === 0 && a.reordered === 0 &&
    a.echoed === 0 && a.malformed === 0;
  return report.valid && clean ? 0 : 3;
}

function latencyLine(summary: LatencySummary): string {
  if (summary.count === 0) return "no samples";
  return `p50 ${formatMs(summary.p50)}  p90 ${formatMs(summary.p90)}  p99 ${
    formatMs(summary.p99)
  }  p99.9 ${formatMs(summary.p999)}  max ${formatMs(summary.max)} ms  (${
    formatCount(summary.count)
  } lines)`;
}

/**
 * The report as text for a terminal, one labelled line per aspect.
 *
 * @example
 * ```ts ignore
 * import { formatLoadReport } from "./format.ts";
 * console.log(formatLoadReport(report));
 * ```
 */
export function formatLoadReport(report: LoadReport): string {
  const c = report.config;
  const a = report.accounting;
  const lines: string[] = [];
  const load = c.rate > 0
    ? `${c.senders} senders × ${c.rate} lines/s`
    : `${c.senders} senders as fast as possible (window ${c.window})`;
  lines.push(
    `linechat load → ${c.target}: ${c.clients} clients, ${load}, ${c.size} B lines, ${
      c.durationMs / 1000
    } s measured after ${c.warmupMs / 1000} s warm-up${
      c.lines ? `, at most ${c.lines} lines per sender` : ""
    }${c.slowConsumers ? `, ${c.slowConsumers} slow consumers` : ""}`,
  );
  const conn = report.connect;
  lines.push(
    `connect      ${conn.connected}/${conn.attempted} in ${conn.rampSeconds} s; connect() p50 ${
      formatMs(conn.timeMs.p50)
    } p99 ${formatMs(conn.timeMs.p99)} max ${
      formatMs(conn.timeMs.max)
    } ms; all in the room after ${formatMs(conn.joinMs)} ms` +
      (conn.failed
        ? `; ${conn.failed} failed: ${
          Object.entries(conn.errors).map(([e, n]) => `${e} ×${n}`).join(", ")
        }`
        : ""),
  );
  const w = report.window;
  lines.push(
    `offered      ${formatCount(w.offeredLinesPerSecond)} lines/s = ${
      formatCount(w.offeredDeliveriesPerSecond)
    } deliveries/s over ${w.seconds} s`,
  );
  lines.push(
    `delivered    ${formatCount(w.deliveredPerSecond)} deliveries/s`,
  );
  lines.push(
    `accounting   ${formatCount(a.linesSent)} lines sent, ${
      formatCount(a.expected)
    } deliveries expected, ${formatCount(a.delivered)} delivered (${
      (a.deliveryRatio * 100).toFixed(3)
    } %); lost ${a.lost}, duplicated ${a.duplicated}, reordered ${a.reordered}, echoed ${a.echoed}, malformed ${a.malformed}, foreign ${a.foreign}`,
  );
  lines.push(`latency      ${latencyLine(report.latency.corrected)}`);
  lines.push(`  (actual)   ${latencyLine(report.latency.uncorrected)}`);
  if (c.lines) {
    lines.push(
      `last line    delivered ${
        formatMs(report.latency.lastDeliveryMs)
      } ms after the first was sent`,
    );
  }
  if (report.disconnects.total > 0) {
    lines.push(
      `disconnects  ${report.disconnects.total} clients closed by the server (${
        Object.entries(report.disconnects.byPhase).map(([p, n]) => `${p} ${n}`)
          .join(", ")
      })`,
    );
  }
  if (report.slowConsumers.count > 0) {
    const s = report.slowConsumers;
    lines.push(
      `slow         ${s.closedByServer}/${s.count} slow consumers closed by the server; ${
        formatBytes(s.bytesPending)
      } were waiting for them`,
    );
  }
  const g = report.generator;
  lines.push(
    `generator    main thread ${Math.round(g.busyCpu * 100)}% busy (+${
      Math.round(g.spinCpu * 100)
    }% polling), process ${Math.round(g.processCpu * 100)}%; send lag p99 ${
      formatMs(g.lagMs.p99)
    } max ${formatMs(g.lagMs.max)} ms; ${
      formatCount(g.blockedLines)
    } lines waited for a pending write${
      g.otherCpu === null
        ? ""
        : `; other processes used ${g.otherCpu.toFixed(2)} cores`
    }`,
  );
  const net = report.network;
  if (net && (net.tcpRetransmits > 0 || net.backlogDrops > 0)) {
    lines.push(
      `network      ${formatCount(net.tcpRetransmits)} TCP retransmissions, ${
        formatCount(net.backlogDrops)
      } packets dropped at a full input backlog during the window (each ` +
        "drop delays its line by a retransmission timeout, 200 ms or more)",
    );
  }
  const s = report.server;
  if (s) {
    lines.push(
      `server       pid ${s.pid}${s.alive ? "" : " (exited)"}: CPU ${
        Math.round(s.cpuShare * 100)
      }% of a core, ${
        s.cpuSecondsPerMillionDeliveries ?? "–"
      } CPU-s per million deliveries; RSS ${formatBytes(s.rssBeforeBytes)} → ${
        formatBytes(s.rssConnectedBytes)
      } connected, peak ${formatBytes(s.rssPeakBytes)}; ${
        s.rssPerConnectionBytes === null
          ? "–"
          : formatBytes(s.rssPerConnectionBytes)
      } per connection (slope, R² ${s.rssFitR2 ?? "–"})`,
    );
  }
  lines.push(
    report.failure
      ? `verdict      FAILED: ${report.failure}`
      : report.valid
      ? "verdict      valid"
      : `verdict      INVALID: ${report.invalidReasons.join("; ")}`,
  );
  return lines.join("\n");
}
