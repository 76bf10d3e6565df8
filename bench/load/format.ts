/**
 * `deno task load`'s output: the report as text for a terminal, one
 * labelled line per aspect, and the exit status a report calls for.
 *
 * @module
 */

import type { LatencySummary } from "../latency_histogram.ts";
import { formatBytes, formatCount, formatMs } from "../units.ts";
import type { LatencyDistribution, LoadReport } from "./report.ts";
import { RSS_FIT_MIN_R2 } from "./validity.ts";
import { round } from "./_util.ts";

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

/**
 * Whether a run failed before it sent anything (refused, the ramp or the
 * join failed): then there is nothing to show but the reason.
 *
 * @example
 * ```ts ignore
 * import { failedBeforeSending } from "./format.ts";
 * if (failedBeforeSending(report)) console.error(report.failure);
 * ```
 */
export function failedBeforeSending(report: LoadReport): boolean {
  return report.failure !== null && report.accounting.linesSent === 0 &&
    !Number.isFinite(report.window.seconds);
}

/**
 * The whole latency distribution (`--latency`), as wrk2 prints it: fixed
 * percentiles, then HdrHistogram's percentile spectrum.
 *
 * @example
 * ```ts
 * import { formatLatencyDistribution } from "./format.ts";
 * const text = formatLatencyDistribution({
 *   percentiles: [{ percentile: 50, ms: 1.5 }, { percentile: 100, ms: 9 }],
 *   spectrum: "       Value     Percentile TotalCount 1/(1-Percentile)\n",
 *   histogram: "",
 * });
 * console.log(text.split("\n")[1]); // " 50.000%    1.50 ms"
 * ```
 */
export function formatLatencyDistribution(
  distribution: LatencyDistribution,
): string {
  const lines = [
    "Latency distribution (corrected, HdrHistogram):",
    ...distribution.percentiles.map(({ percentile, ms }) =>
      `${percentile.toFixed(3).padStart(7)}% ${formatMs(ms).padStart(7)} ms`
    ),
    "",
    "Detailed percentile spectrum (values in ms):",
    distribution.spectrum.trimEnd(),
  ];
  return lines.join("\n");
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
  const ramp = c.rateRamp;
  const senders = `${c.senders} sender${c.senders === 1 ? "" : "s"}`;
  const load = ramp
    ? `${senders} × ${ramp.from} → ${ramp.to} lines/s over ${
      ramp.overMs / 1000
    } s${ramp.steps ? ` in ${ramp.steps} steps` : ""}`
    : c.rate > 0
    ? `${senders} × ${c.rate} lines/s`
    : `${senders} as fast as possible (window ${c.window})`;
  const size = c.payloadFile === null
    ? `${c.size} B lines`
    : `lines from ${c.payloadFile} (${c.payloadLines} bodies, mean ${c.payloadMeanBytes} B)`;
  lines.push(
    `linechat load → ${c.target}: ${c.clients} clients, ${load}, ${size}, ${
      c.durationMs / 1000
    } s measured after ${c.warmupMs / 1000} s warm-up${
      c.lines ? `, at most ${c.lines} lines per sender` : ""
    }${c.slowConsumers ? `, ${c.slowConsumers} slow consumers` : ""}${
      c.workers > 1 ? `, ${c.workers} workers` : ""
    }`,
  );
  const conn = report.connect;
  // Older reports have no `seconds`: their ramp time included the pauses.
  const seconds = conn.seconds ?? conn.rampSeconds;
  const paused = round(conn.rampSeconds - seconds, 3);
  lines.push(
    `connect      ${conn.connected}/${conn.attempted} in ${seconds} s${
      paused > 0.001 && report.server
        ? ` (+${paused} s of pauses for memory samples)`
        : ""
    }; connect() p50 ${formatMs(conn.timeMs.p50)} p99 ${
      formatMs(conn.timeMs.p99)
    } max ${formatMs(conn.timeMs.max)} ms; all in the room after ${
      formatMs(conn.joinMs)
    } ms` +
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
  const pct = (share: number) => `${Math.round(share * 100)}%`;
  const workers = (g.threads ?? []).slice(1);
  const threads = workers.length === 0
    ? `main thread ${pct(g.busyCpu)} busy (+${pct(g.spinCpu)} polling)`
    : `${workers.length} workers ${
      workers.map((t) => pct(t.busyCpu)).join(" / ")
    } busy (+${pct(g.spinCpu)} polling), main thread ${pct(g.mainThreadCpu)}`;
  lines.push(
    `generator    ${threads}, process ${pct(g.processCpu)}; send lag p99 ${
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
      } per connection (slope of ${s.rssSamples.length} samples, R² ${
        s.rssFitR2 ?? "–"
      }${
        s.rssFitR2 !== null && s.rssSamples.length >= 3 &&
          s.rssFitR2 < RSS_FIT_MIN_R2
          ? ": poor fit"
          : ""
      })`,
    );
  }
  for (const warning of report.warnings ?? []) {
    lines.push(`warning      ${warning}`);
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
