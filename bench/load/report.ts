/**
 * What a load run reports ({@linkcode LoadReport}, printed as JSON by
 * `--json`), and {@linkcode buildLoadReport}, the pure function that
 * turns what the phases measured into it: rates over the window, the
 * delivery accounting, CPU shares per generator thread, validity and
 * warnings (`validity.ts`), the server's usage, and the per-second
 * timeline.
 *
 * @module
 */

import {
  cpuShare,
  type ProcSample,
  type SystemCpuSample,
} from "../../lib/proc_stats.ts";
import { VERSION } from "../../lib/version.ts";
import type { LatencySummary } from "../latency_histogram.ts";
import { linearFit, perSecond } from "../statistics.ts";
import type { TallySummary } from "./accounting.ts";
import type { LoadConfig } from "./options.ts";
import type { SendSummary } from "./senders.ts";
import type { TimelineSecond } from "./timeline.ts";
import { judgeRun, type ValidityLimits } from "./validity.ts";
import type { WindowSamples } from "./window.ts";
import { round } from "./_util.ts";

/**
 * The version of the report's JSON layout: 2 added `schemaVersion`,
 * `tool`, `startedAt`, `warnings`, `connect.seconds`, the generator's
 * `workers` and `threads`, `timeline` and `latency.distribution`.
 *
 * @example
 * ```ts
 * import { LOAD_REPORT_SCHEMA_VERSION } from "./report.ts";
 * console.log(LOAD_REPORT_SCHEMA_VERSION); // 2
 * ```
 */
export const LOAD_REPORT_SCHEMA_VERSION = 2;

/** One generator thread's CPU in the window, shares of one core. */
export interface GeneratorThread {
  /** `"main thread"` or `"worker N"`. */
  name: string;
  /** Its OS thread id (null: the main thread, whose id is the pid). */
  tid: number | null;
  /** CPU share (user + system). */
  cpu: number;
  /** Estimated share spent polling for precise send times. */
  spinCpu: number;
  /** `cpu - spinCpu`: how busy it really was. */
  busyCpu: number;
}

/** The whole latency distribution (`--latency`). */
export interface LatencyDistribution {
  /** Corrected latency at fixed percentiles, ms. */
  percentiles: { percentile: number; ms: number }[];
  /** HdrHistogram's percentile spectrum, as text (values in ms). */
  spectrum: string;
  /** The corrected histogram, HdrHistogram's compressed base64 (µs). */
  histogram: string;
}

/** Delivery accounting: what should have arrived and what did. */
export interface DeliveryAccounting {
  /** Lines the senders sent (whole run). */
  linesSent: number;
  /** Lines × the other receivers: deliveries a correct server makes. */
  expected: number;
  /** Distinct lines received (each line and receiver counted once). */
  delivered: number;
  /** Expected deliveries that never arrived (by the end of the drain). */
  lost: number;
  /** Lines received again after their first delivery. */
  duplicated: number;
  /** Lines that arrived after a later line of the same sender. */
  reordered: number;
  /** Lines a client received from itself (the server echoed them). */
  echoed: number;
  /** Lines received without this run's tag (banners, other runs). */
  foreign: number;
  /** Lines with this run's tag but a broken payload (cut or merged). */
  malformed: number;
  /** `delivered / expected` (1 when nothing was expected). */
  deliveryRatio: number;
}

/** The server's resource use, when it was measured. */
export interface ServerUsage {
  /** Its pid (of a started server: its process group's). */
  pid: number;
  /** Whether it still ran at the end of the run. */
  alive: boolean;
  /** CPU seconds it used during the measured window. */
  cpuSeconds: number;
  /** Its CPU use in the window as a share of one core. */
  cpuShare: number;
  /** CPU seconds per million deliveries in the window. */
  cpuSecondsPerMillionDeliveries: number | null;
  /** RSS before the first client connected, bytes. */
  rssBeforeBytes: number;
  /** RSS with every client connected, before sending, bytes. */
  rssConnectedBytes: number;
  /** Highest RSS seen, bytes. */
  rssPeakBytes: number;
  /** Slope of RSS against connected clients during the ramp, bytes. */
  rssPerConnectionBytes: number | null;
  /** R² of that fit. */
  rssFitR2: number | null;
  /** The ramp samples: `[clients, rssBytes]`. */
  rssSamples: [number, number][];
}

/** Everything a run measured. See docs/load.md for each field. */
export interface LoadReport {
  /** The layout's version ({@linkcode LOAD_REPORT_SCHEMA_VERSION}). */
  schemaVersion: number;
  /** The program and linechat's version. */
  tool: { name: string; version: string };
  /** When the run started, ISO 8601. */
  startedAt: string;
  config: LoadConfig;
  /** False when a number would be wrong (see `validity.ts`). */
  valid: boolean;
  /** Why it is invalid (empty when valid). */
  invalidReasons: string[];
  /** What to know about the numbers, with the reason. */
  warnings: string[];
  /** Set when the run could not be carried out (refused, stalled, died). */
  failure: string | null;
  connect: {
    attempted: number;
    connected: number;
    failed: number;
    /** Error messages of failed connects, with counts. */
    errors: Record<string, number>;
    /** Time for `connect()` to complete, ms. */
    timeMs: LatencySummary;
    /** Time spent connecting, s (the pauses for memory samples left out). */
    seconds: number;
    /** The whole ramp, pauses and memory samples included, s. */
    rampSeconds: number;
    /** Time until every client was seen in the room, ms. */
    joinMs: number;
  };
  /** Clients the server closed (or reset) before the generator did. */
  disconnects: {
    total: number;
    byPhase: Record<string, number>;
  };
  window: {
    /** Length of the measured window, s. */
    seconds: number;
    /** Lines sent per second in the window. */
    offeredLinesPerSecond: number;
    /** Deliveries the offered lines call for, per second. */
    offeredDeliveriesPerSecond: number;
    /** Deliveries received per second in the window. */
    deliveredPerSecond: number;
  };
  accounting: DeliveryAccounting;
  /** Latency of lines sent in the window, ms. */
  latency: {
    /** From the intended send time (corrected for coordinated omission). */
    corrected: LatencySummary;
    /** From the actual send time. */
    uncorrected: LatencySummary;
    /** From the first line sent to the last delivery, ms. */
    lastDeliveryMs: number;
    /** The whole distribution, with `--latency` (else absent). */
    distribution?: LatencyDistribution;
  };
  generator: {
    /** Threads that ran clients: 1 (the main thread) or the workers. */
    workers: number;
    /** Whole process CPU in the window, share of one core. */
    processCpu: number;
    /** Main thread CPU in the window, share of one core. */
    mainThreadCpu: number;
    /** Estimated share of a core spent polling for precise send times (all threads). */
    spinCpu: number;
    /**
     * How busy the busiest thread that runs clients was: the main thread's
     * share minus its polling with `--workers 1`, else the busiest worker's.
     */
    busyCpu: number;
    /** Each thread: the main thread, then the workers (with `--workers N`). */
    threads: GeneratorThread[];
    /** How late lines left versus schedule, excluding waits on the server. */
    lagMs: LatencySummary;
    /** Lines that waited because the socket would not take them. */
    blockedLines: number;
    /**
     * Cores used by other processes during the window (the machine's
     * busy time minus the generator's and the server's); null when
     * unknown.
     */
    otherCpu: number | null;
    /** Cores the whole machine used during the window; null when unknown. */
    machineCpu: number | null;
  };
  /**
   * The machine's network loss signals during the window (loopback is
   * shared by the server and the generator); null when unknown.
   */
  network: {
    /** TCP segments retransmitted. */
    tcpRetransmits: number;
    /** Packets dropped at a full input backlog (each one a retransmission). */
    backlogDrops: number;
  } | null;
  slowConsumers: {
    count: number;
    /** How many the server closed by the end of the run. */
    closedByServer: number;
    /** Bytes they had received when read at the end. */
    bytesPending: number;
  };
  server: ServerUsage | null;
  /** Per second of the window (and of the drain, for late arrivals). */
  timeline: TimelineSecond[];
}

/** Everything the phases of a run measured: the input of the report. */
export interface LoadMeasurements {
  /** When the run started, ISO 8601. */
  startedAt?: string;
  /** The settings used. */
  config: LoadConfig;
  /** The validity thresholds. */
  limits: ValidityLimits;
  /** The machine's cores. */
  cores?: number;
  /** Why a phase failed, if one did. */
  failure: string | null;
  /** The ramp and join. */
  connect: LoadReport["connect"];
  /** Clients the server closed. */
  disconnects: LoadReport["disconnects"];
  /** Receiving clients connected. */
  receivers: number;
  /** What the receivers counted. */
  tally: TallySummary;
  /** What the senders sent. */
  send: SendSummary;
  /** The window's bounds (run-clock µs) and its edge readings. */
  window: {
    startUs: number;
    endUs: number;
    samples: WindowSamples | undefined;
  };
  /** The slow consumers. */
  slowConsumers: LoadReport["slowConsumers"];
  /** Per-second figures. */
  timeline?: TimelineSecond[];
  /** The whole latency distribution, when asked for. */
  latencyDistribution?: LatencyDistribution;
  /** The server, when it was measured. */
  server: {
    pid: number;
    alive: boolean;
    rssBeforeBytes: number;
    rssConnectedBytes: number;
    rssPeakBytes: number;
    rssSamples: [number, number][];
  } | null;
}

/**
 * Builds the report from what was measured. Pure: the same measurements
 * always give the same report.
 *
 * @example
 * ```ts ignore
 * import { buildLoadReport } from "./report.ts";
 * const report = buildLoadReport(measurements);
 * console.log(report.accounting.lost, report.valid);
 * ```
 */
export function buildLoadReport(m: LoadMeasurements): LoadReport {
  const { config, tally, send, limits } = m;
  const expected = send.linesSent * Math.max(0, m.receivers - 1);
  let failure = m.failure;
  if (!failure && m.server && !m.server.alive) {
    failure = "the server process exited";
  }
  if (!failure && expected > 0 && tally.delivered === 0) {
    failure = "stalled: no line was delivered";
  }
  const windowSeconds = Math.max(0, (m.window.endUs - m.window.startUs) / 1e6);
  const cpu = generatorCpu(m.window.samples, config.workers);
  const otherCpu = otherProcessesCpu(m.window.samples);
  const machineCpu = machineCores(m.window.samples);
  const server = m.server && serverUsage(m.server, m.window.samples, tally);
  const busiest = cpu.threads.reduce(
    (a, b) => b.busyCpu > a.busyCpu ? b : a,
    cpu.threads[0],
  );
  const verdict = judgeRun({
    sampled: m.window.samples !== undefined,
    openLoop: config.rate > 0,
    workers: config.workers,
    busiest: { name: busiest.name, busy: cpu.busy },
    lagP99Ms: send.lag.p99,
    p99Ms: tally.corrected.p99,
    otherCpu: m.server ? otherCpu : null,
    machine: machineCpu === null || !m.cores
      ? null
      : { busyCores: machineCpu, cores: m.cores },
    rssFit: server?.rssFitR2 === null || server?.rssFitR2 === undefined
      ? null
      : {
        r2: server.rssFitR2,
        samples: server.rssSamples.length,
        slopeBytes: server.rssPerConnectionBytes ?? 0,
      },
  }, limits);
  return {
    schemaVersion: LOAD_REPORT_SCHEMA_VERSION,
    tool: { name: "linechat-load", version: VERSION },
    startedAt: m.startedAt ?? "",
    config,
    valid: verdict.invalid.length === 0,
    invalidReasons: verdict.invalid,
    warnings: verdict.warnings,
    failure,
    connect: m.connect,
    disconnects: m.disconnects,
    window: {
      seconds: round(windowSeconds, 3),
      offeredLinesPerSecond: round(
        perSecond(send.windowOffered, windowSeconds),
        1,
      ),
      offeredDeliveriesPerSecond: round(
        perSecond(
          send.windowOffered * Math.max(0, m.receivers - 1),
          windowSeconds,
        ),
        1,
      ),
      deliveredPerSecond: round(
        perSecond(tally.windowDelivered, windowSeconds),
        1,
      ),
    },
    accounting: {
      linesSent: send.linesSent,
      expected,
      delivered: tally.delivered,
      lost: Math.max(0, expected - tally.delivered),
      duplicated: tally.duplicated,
      reordered: tally.reordered,
      echoed: tally.echoed,
      foreign: tally.foreign,
      malformed: tally.malformed,
      deliveryRatio: expected === 0 ? 1 : round(tally.delivered / expected, 6),
    },
    latency: {
      corrected: tally.corrected,
      uncorrected: tally.uncorrected,
      lastDeliveryMs: send.firstSendUs < 0 || tally.lastDeliveryUs === 0
        ? 0
        : round((tally.lastDeliveryUs - send.firstSendUs) / 1000, 3),
      ...(m.latencyDistribution ? { distribution: m.latencyDistribution } : {}),
    },
    generator: {
      workers: config.workers,
      processCpu: round(cpu.process, 3),
      mainThreadCpu: round(cpu.mainThread, 3),
      spinCpu: round(cpu.spin, 3),
      busyCpu: round(cpu.busy, 3),
      threads: cpu.threads,
      lagMs: send.lag,
      blockedLines: send.blockedLines,
      otherCpu: otherCpu === null ? null : round(otherCpu, 3),
      machineCpu: machineCpu === null ? null : round(machineCpu, 3),
    },
    network: networkDelta(m.window.samples),
    slowConsumers: m.slowConsumers,
    server,
    timeline: m.timeline ?? [],
  };
}

/**
 * The generator's CPU shares in the window (zero when not sampled): the
 * process, each thread, polling, and how busy the busiest thread that
 * runs clients was.
 */
function generatorCpu(samples: WindowSamples | undefined, workers: number) {
  const idle = (name: string): GeneratorThread => ({
    name,
    tid: null,
    cpu: 0,
    spinCpu: 0,
    busyCpu: 0,
  });
  if (!samples) {
    return {
      process: 0,
      mainThread: 0,
      spin: 0,
      busy: 0,
      threads: [idle("main thread")],
    };
  }
  const { start, end } = samples;
  const thread = (
    name: string,
    tid: number | null,
    from: ProcSample | undefined,
    to: ProcSample | undefined,
    spinFrom: number,
    spinTo: number,
  ): GeneratorThread => {
    if (!from || !to) return { ...idle(name), tid };
    const cpu = cpuShare(from, to);
    const wallSeconds = (to.atMs - from.atMs) / 1000;
    const spin = wallSeconds > 0 ? (spinTo - spinFrom) / 1000 / wallSeconds : 0;
    return {
      name,
      tid,
      cpu: round(cpu, 3),
      spinCpu: round(spin, 3),
      busyCpu: round(Math.max(0, cpu - spin), 3),
    };
  };
  const startWorkers = start.workers ?? [];
  const endWorkers = end.workers ?? [];
  const pool = startWorkers.length > 0;
  const main = thread(
    "main thread",
    null,
    start.thread,
    end.thread,
    pool ? 0 : start.spinMs,
    pool ? 0 : end.spinMs,
  );
  const workerThreads = startWorkers.map((from, i) =>
    thread(
      `worker ${i}`,
      from.tid ?? null,
      from.thread,
      endWorkers[i]?.thread,
      from.spinMs,
      endWorkers[i]?.spinMs ?? from.spinMs,
    )
  );
  const mainThread = cpuShare(start.thread, end.thread);
  const wallSeconds = (end.thread.atMs - start.thread.atMs) / 1000;
  const spin = wallSeconds > 0
    ? (end.spinMs - start.spinMs) / 1000 / wallSeconds
    : 0;
  const clients = workers > 1 && pool ? workerThreads : [main];
  return {
    process: cpuShare(start.self, end.self),
    mainThread,
    spin,
    busy: Math.max(0, ...clients.map((t) => t.busyCpu)),
    threads: [main, ...workerThreads],
  };
}

/** Cores the whole machine used in the window; null when unknown. */
function machineCores(samples: WindowSamples | undefined): number | null {
  const system = systemPair(samples);
  if (!system) return null;
  const wallSeconds = (system[1].atMs - system[0].atMs) / 1000;
  return wallSeconds > 0
    ? (system[1].busySeconds - system[0].busySeconds) / wallSeconds
    : null;
}

/**
 * Cores the rest of the machine used in the window: everything busy
 * minus the generator and (when measured) the server; null when unknown.
 */
function otherProcessesCpu(samples: WindowSamples | undefined): number | null {
  const system = systemPair(samples);
  if (!samples || !system) return null;
  const { start, end } = samples;
  const wallSeconds = (system[1].atMs - system[0].atMs) / 1000;
  const ours = (end.self.cpuSeconds - start.self.cpuSeconds) +
    (start.server && end.server
      ? end.server.cpuSeconds - start.server.cpuSeconds
      : 0);
  return wallSeconds > 0
    ? Math.max(
      0,
      (system[1].busySeconds - system[0].busySeconds - ours) / wallSeconds,
    )
    : 0;
}

function systemPair(
  samples: WindowSamples | undefined,
): [SystemCpuSample, SystemCpuSample] | undefined {
  const from = samples?.start.system;
  const to = samples?.end.system;
  return from && to ? [from, to] : undefined;
}

function serverUsage(
  server: NonNullable<LoadMeasurements["server"]>,
  samples: WindowSamples | undefined,
  tally: TallySummary,
): ServerUsage {
  const fit = linearFit(
    server.rssSamples.map(([clients]) => clients),
    server.rssSamples.map(([, rss]) => rss),
  );
  const from = samples?.start.server;
  const to = samples?.end.server;
  const usage = from && to ? [from, to] as const : undefined;
  const cpuSeconds = usage ? usage[1].cpuSeconds - usage[0].cpuSeconds : 0;
  return {
    pid: server.pid,
    alive: server.alive,
    cpuSeconds: round(cpuSeconds, 3),
    cpuShare: usage ? round(cpuShare(usage[0], usage[1]), 3) : 0,
    cpuSecondsPerMillionDeliveries: usage && tally.windowDelivered > 0
      ? round(cpuSeconds / (tally.windowDelivered / 1e6), 3)
      : null,
    rssBeforeBytes: server.rssBeforeBytes,
    rssConnectedBytes: server.rssConnectedBytes,
    rssPeakBytes: server.rssPeakBytes,
    rssPerConnectionBytes: fit ? Math.round(fit.slope) : null,
    rssFitR2: fit ? round(fit.r2, 4) : null,
    rssSamples: server.rssSamples,
  };
}

/**
 * The network counters' growth over the window, if both edges read them.
 *
 * @example
 * ```ts
 * import { networkDelta } from "./report.ts";
 * const edge = (retransmits: number, drops: number) => ({
 *   system: { atMs: 0, busySeconds: 0, tcpRetransmits: retransmits, backlogDrops: drops },
 * });
 * console.log(networkDelta({ start: edge(10, 1), end: edge(12, 4) } as never));
 * // { tcpRetransmits: 2, backlogDrops: 3 }
 * ```
 */
export function networkDelta(
  samples: WindowSamples | undefined,
): LoadReport["network"] {
  const pair = systemPair(samples);
  if (!pair) return null;
  const [from, to] = pair;
  if (
    from.tcpRetransmits === null || to.tcpRetransmits === null ||
    from.backlogDrops === null || to.backlogDrops === null
  ) return null;
  return {
    tcpRetransmits: to.tcpRetransmits - from.tcpRetransmits,
    backlogDrops: to.backlogDrops - from.backlogDrops,
  };
}
