/**
 * The command line of `deno task load`: flags to {@linkcode LoadOptions},
 * and the human-readable report.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  parseInteger,
  parseNumber,
  parseTarget,
  type Target,
  UsageError,
} from "../lib/args.ts";
import type { LatencySummary } from "./latency_histogram.ts";
import type { LoadOptions, LoadReport } from "./load_generator.ts";

/** The text `--help` prints. */
export const LOAD_USAGE =
  `linechat load: drives any line-protocol chat server and measures it.

Usage: deno task load --target HOST:PORT [options]
       deno task load --spawn "CMD ... {port} ..." [options]

Server:
  --target HOST:PORT     server to drive; repeat it for the nodes of one room
                         (clients are spread round-robin over them)
  --spawn "CMD {port}"   start this server on a free port (no shell), drive it,
                         stop it; also samples its CPU and memory
  --pid PID              sample this process's CPU and memory from /proc

Load:
  --clients N            clients connected, senders included (default 100)
  --senders S            how many of them send (default 1)
  --rate R               lines per second per sender, on a fixed schedule
                         (default 100); 0 = as fast as the server takes them,
                         with --window lines in flight per sender
  --size B               bytes per line, terminator excluded (default 64)
  --duration T           measured window (default 10s; units ms, s, m)
  --warmup T             sending before the window, not measured (default 2s)
  --lines N              each sender stops after N lines
  --connect-rate N       new connections per second (default 1000; 0 = no pacing)
  --window N             lines in flight per sender with --rate 0 (default 256)
  --slow-consumers K     K extra clients that connect and never read
  --drain T              wait for lines in flight after sending (default 5s)

Measurement:
  --rss-steps N          samples of the server's RSS during the ramp (default 10)
  --rss-settle T         pause before each RSS sample (default 250ms)
  --max-lag-ms X         invalid if the generator's send lag p99 exceeds X ms and
                         half the measured p99 (default 5)
  --max-cpu X            invalid if its main thread is busier than X of a core (default 0.9)
  --max-other-cpu X      with a known server pid: invalid if other processes used
                         more than X cores during the window (default 0.25)
  --spin-ms X            poll the last X ms before a send is due, for precise send
                         times at the cost of CPU (default 0: timers only)
  --json                 print the report as JSON (no progress)
  --quiet                no live progress
  -h, --help             this text

Exit status: 0 valid and nothing lost, 1 the run failed (refused, stalled,
server died), 2 bad usage, 3 completed but invalid or with delivery errors.`;

/** Parsed `deno task load` flags. */
export interface LoadArgs {
  help: boolean;
  /** Where to connect (absent with `--spawn`). */
  target: Target | undefined;
  /** Further `--target`s: nodes of the same room, clients spread over all. */
  extraTargets: Target[];
  /** Server command template with `{port}`. */
  spawn: string | undefined;
  /** Server pid to sample. */
  pid: number | undefined;
  json: boolean;
  quiet: boolean;
  /** Everything else, as {@linkcode LoadOptions} without the port. */
  load: Omit<LoadOptions, "port" | "hostname">;
}

/**
 * Parses a duration: a number of seconds, or with a unit `ms`, `s`, `m`.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./load_cli.ts";
 * console.log(parseDuration("--duration", "1.5s"), parseDuration("--drain", "250ms")); // 1500 250
 * ```
 */
export function parseDuration(flag: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!match) {
    throw new UsageError(
      `${flag}: expected a duration like 10, 10s, 500ms or 2m, got "${value}"`,
    );
  }
  const scale = { ms: 1, s: 1000, m: 60_000 }[match[2] ?? "s"] ?? 1000;
  return Math.round(Number(match[1]) * scale);
}

/**
 * Parses `deno task load` flags strictly; throws {@linkcode UsageError}
 * with a one-line reason.
 *
 * @example
 * ```ts
 * import { parseLoadArgs } from "./load_cli.ts";
 * const args = parseLoadArgs(["--target", ":7000", "--clients", "10", "--rate", "0"]);
 * console.log(args.target?.port, args.load.clients, args.load.rate); // 7000 10 0
 * ```
 */
export function parseLoadArgs(args: string[]): LoadArgs {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      target: { type: "string", multiple: true },
      spawn: { type: "string" },
      pid: { type: "string" },
      clients: { type: "string", default: "100" },
      senders: { type: "string", default: "1" },
      rate: { type: "string", default: "100" },
      size: { type: "string", default: "64" },
      duration: { type: "string", default: "10s" },
      warmup: { type: "string", default: "2s" },
      lines: { type: "string" },
      "connect-rate": { type: "string", default: "1000" },
      window: { type: "string", default: "256" },
      "slow-consumers": { type: "string", default: "0" },
      drain: { type: "string", default: "5s" },
      "rss-steps": { type: "string", default: "10" },
      "rss-settle": { type: "string", default: "250ms" },
      "max-lag-ms": { type: "string", default: "5" },
      "max-cpu": { type: "string", default: "0.9" },
      "max-other-cpu": { type: "string", default: "0.25" },
      "spin-ms": { type: "string", default: "0" },
      json: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}"`);
  }
  if (values.help) {
    return {
      help: true,
      target: undefined,
      extraTargets: [],
      spawn: undefined,
      pid: undefined,
      json: false,
      quiet: false,
      load: {},
    };
  }
  if (values.target === undefined && values.spawn === undefined) {
    throw new UsageError('give --target HOST:PORT or --spawn "CMD {port}"');
  }
  if (values.target !== undefined && values.spawn !== undefined) {
    throw new UsageError("give --target or --spawn, not both");
  }
  if (values.spawn !== undefined && !values.spawn.includes("{port}")) {
    throw new UsageError('--spawn: the command must contain "{port}"');
  }
  if (values.spawn !== undefined && values.pid !== undefined) {
    throw new UsageError("--pid is implied by --spawn");
  }
  const clients = parseInteger("--clients", values.clients, {
    min: 1,
    max: 100_000,
  });
  const senders = parseInteger("--senders", values.senders, {
    max: clients,
  });
  return {
    help: false,
    target: values.target === undefined
      ? undefined
      : parseTarget(values.target[0]),
    extraTargets: (values.target ?? []).slice(1).map((t) => parseTarget(t)),
    spawn: values.spawn,
    pid: values.pid === undefined
      ? undefined
      : parseInteger("--pid", values.pid, { min: 1 }),
    json: values.json,
    quiet: values.quiet,
    load: {
      clients,
      senders,
      rate: parseNumber("--rate", values.rate, { max: 1_000_000 }),
      size: parseInteger("--size", values.size, { max: 1024 * 1024 }),
      durationMs: parseDuration("--duration", values.duration),
      warmupMs: parseDuration("--warmup", values.warmup),
      lines: values.lines === undefined
        ? undefined
        : parseInteger("--lines", values.lines, { min: 1 }),
      connectRate: parseNumber("--connect-rate", values["connect-rate"]),
      window: parseInteger("--window", values.window, { min: 1 }),
      slowConsumers: parseInteger(
        "--slow-consumers",
        values["slow-consumers"],
        { max: 10_000 },
      ),
      drainMs: parseDuration("--drain", values.drain),
      rssSteps: parseInteger("--rss-steps", values["rss-steps"], {
        min: 1,
        max: 1000,
      }),
      rssSettleMs: parseDuration("--rss-settle", values["rss-settle"]),
      maxLagMs: parseNumber("--max-lag-ms", values["max-lag-ms"]),
      maxCpu: parseNumber("--max-cpu", values["max-cpu"], { max: 64 }),
      maxOtherCpu: parseNumber("--max-other-cpu", values["max-other-cpu"], {
        max: 1024,
      }),
      spinMs: parseNumber("--spin-ms", values["spin-ms"], { max: 100 }),
    },
  };
}

/**
 * The exit status for a report: 0 valid and nothing lost, 1 failed, 3
 * completed but invalid or with delivery errors.
 *
 * @example
 * ```ts ignore
 * import { exitCodeOf } from "./load_cli.ts";
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

/** Formats an integer with thousands separators. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/**
 * Formats a byte count with a binary unit: `512 B`, `5.6 KiB`, `40.1 MiB`.
 *
 * @example
 * ```ts
 * import { formatBytes } from "./load_cli.ts";
 * console.log(formatBytes(5734)); // "5.6 KiB"
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0
    ? `${Math.round(value)} B`
    : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

/** Formats milliseconds with sensible precision. */
export function formatMs(ms: number): string {
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
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
 * import { formatLoadReport } from "./load_cli.ts";
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
