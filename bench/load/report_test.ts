import { deepEqual, equal, match } from "node:assert/strict";
import type { ProcSample, SystemCpuSample } from "../../lib/proc_stats.ts";
import type { LatencySummary } from "../latency_histogram.ts";
import type { TallySummary } from "./accounting.ts";
import { resolveLoadOptions } from "./options.ts";
import {
  buildLoadReport,
  LOAD_REPORT_SCHEMA_VERSION,
  type LoadMeasurements,
} from "./report.ts";
import type { SendSummary } from "./senders.ts";
import type { WindowEdge } from "./window.ts";

const latency = (p99: number, count = 100): LatencySummary => ({
  count,
  mean: p99 / 2,
  p50: p99 / 2,
  p90: p99,
  p99,
  p999: p99,
  max: p99,
});
const proc = (atMs: number, cpuSeconds: number, rssBytes = 0): ProcSample => ({
  atMs,
  cpuSeconds,
  rssBytes,
});
const system = (
  atMs: number,
  busySeconds: number,
  drops = 0,
): SystemCpuSample => ({
  atMs,
  busySeconds,
  tcpRetransmits: drops,
  backlogDrops: drops,
});

/** Edges 2 s apart: generator 0.5 cores (main thread), server 0.25. */
function edges(machineBusy: number): { start: WindowEdge; end: WindowEdge } {
  return {
    start: {
      self: proc(0, 10),
      thread: proc(0, 8),
      server: proc(0, 3, 50e6),
      system: system(0, 100),
      spinMs: 0,
    },
    end: {
      self: proc(2000, 11.2),
      thread: proc(2000, 9),
      server: proc(2000, 3.5, 60e6),
      system: system(2000, 100 + machineBusy, 3),
      spinMs: 200,
    },
  };
}

function measurements(
  fields: Partial<LoadMeasurements> = {},
  tally: Partial<TallySummary> = {},
  send: Partial<SendSummary> = {},
): LoadMeasurements {
  const { config } = resolveLoadOptions({ port: 1, clients: 11, senders: 1 });
  return {
    config,
    limits: { maxCpu: 0.9, maxOtherCpu: 1, maxLagMs: 20 },
    failure: null,
    connect: {
      attempted: 11,
      connected: 11,
      failed: 0,
      errors: {},
      timeMs: latency(1),
      seconds: 0.1,
      rampSeconds: 0.1,
      joinMs: 20,
    },
    disconnects: { total: 0, byPhase: {} },
    receivers: 11,
    tally: {
      delivered: 2000,
      duplicated: 0,
      reordered: 0,
      echoed: 0,
      foreign: 0,
      malformed: 0,
      windowDelivered: 1000,
      lastDeliveryUs: 3_000_000,
      corrected: latency(4),
      uncorrected: latency(3),
      ...tally,
    },
    send: {
      linesSent: 200,
      windowOffered: 100,
      firstSendUs: 1_000_000,
      blockedLines: 0,
      lag: latency(1),
      spinMs: 0,
      ...send,
    },
    window: { startUs: 2_000_000, endUs: 4_000_000, samples: edges(1.8) },
    slowConsumers: { count: 0, closedByServer: 0, bytesPending: 0 },
    server: {
      pid: 42,
      alive: true,
      rssBeforeBytes: 10e6,
      rssConnectedBytes: 12e6,
      rssPeakBytes: 60e6,
      rssSamples: [[0, 10e6], [5, 11e6], [10, 12e6]],
    },
    ...fields,
  };
}

Deno.test("rates over the window, and every delivery accounted for", () => {
  const report = buildLoadReport(measurements());
  deepEqual(report.window, {
    seconds: 2,
    offeredLinesPerSecond: 50,
    offeredDeliveriesPerSecond: 500,
    deliveredPerSecond: 500,
  });
  deepEqual(report.accounting, {
    linesSent: 200,
    expected: 2000,
    delivered: 2000,
    lost: 0,
    duplicated: 0,
    reordered: 0,
    echoed: 0,
    foreign: 0,
    malformed: 0,
    deliveryRatio: 1,
  });
  equal(report.latency.lastDeliveryMs, 2000);
  equal(report.failure, null);
  equal(report.valid, true);
});

Deno.test("the generator's and the server's CPU, other processes, memory per connection", () => {
  const report = buildLoadReport(
    measurements({
      window: { startUs: 2_000_000, endUs: 4_000_000, samples: edges(2.5) },
    }),
  );
  deepEqual(
    [
      report.generator.processCpu,
      report.generator.mainThreadCpu,
      report.generator.spinCpu,
      report.generator.busyCpu,
      report.generator.otherCpu,
    ],
    // The machine: 2.5 CPU-s busy in 2 s; 1.2 the generator, 0.5 the server.
    [0.6, 0.5, 0.1, 0.4, 0.4],
  );
  deepEqual(report.server, {
    pid: 42,
    alive: true,
    cpuSeconds: 0.5,
    cpuShare: 0.25,
    cpuSecondsPerMillionDeliveries: 500,
    rssBeforeBytes: 10e6,
    rssConnectedBytes: 12e6,
    rssPeakBytes: 60e6,
    rssPerConnectionBytes: 200_000,
    rssFitR2: 1,
    rssSamples: [[0, 10e6], [5, 11e6], [10, 12e6]],
  });
  deepEqual(report.network, { tcpRetransmits: 3, backlogDrops: 3 });
  // 0.4 cores of other processes: noisy, not wrong.
  equal(report.valid, true);
  match(report.warnings.join(), /other processes used 0\.40 cores/);
  equal(report.generator.machineCpu, 1.25);
});

Deno.test("invalid when the generator is saturated or far behind its schedule", () => {
  const busy = edges(1.7);
  busy.end.thread = proc(2000, 10.2);
  const report = buildLoadReport(
    measurements({ window: { startUs: 0, endUs: 2e6, samples: busy } }, {}, {
      lag: latency(25),
    }),
  );
  equal(report.valid, false);
  deepEqual(report.invalidReasons, [
    "the generator was the limit: its busiest thread (main thread) was 100% busy (> 90%); --workers N spreads it over threads",
    "the generator fell behind its schedule (send lag p99 25 ms, over 20 ms and over half the measured p99 4 ms): the latency is mostly its own",
  ]);
});

Deno.test("warnings, not invalid: a send lag of 5.69 ms, 0.28 cores of neighbours, a poor memory fit", () => {
  const busy = edges(2.26); // 1.2 + 0.5 CPU-s ours in 2 s: 0.28 cores others'
  const report = buildLoadReport(
    measurements(
      {
        window: { startUs: 2e6, endUs: 4e6, samples: busy },
        server: {
          ...measurements().server!,
          rssSamples: [[0, 10e6], [50, 13e6], [100, 11e6], [150, 12e6]],
        },
      },
      { corrected: latency(9) },
      { lag: latency(5.69) },
    ),
  );
  equal(report.valid, true);
  deepEqual(report.invalidReasons, []);
  deepEqual(report.warnings.map((w) => w.split(" (")[0]), [
    "memory per connection is a poor fit",
    "the generator's send lag p99 was 5.69 ms",
    "other processes used 0.28 cores during the window",
  ]);
});

Deno.test("with workers, the busiest worker decides, and each thread is reported", () => {
  const samples = edges(1.8);
  const worker = (
    tid: number,
    atMs: number,
    cpuSeconds: number,
    spinMs: number,
  ) => ({ tid, thread: proc(atMs, cpuSeconds), spinMs });
  samples.start.workers = [worker(101, 0, 1, 0), worker(102, 0, 2, 0)];
  samples.end.workers = [
    worker(101, 2000, 2.9, 100),
    worker(102, 2000, 3.2, 0),
  ];
  const { config } = resolveLoadOptions({ port: 1, clients: 11, workers: 2 });
  const report = buildLoadReport(
    measurements({ config, window: { startUs: 0, endUs: 2e6, samples } }),
  );
  equal(report.generator.workers, 2);
  deepEqual(
    report.generator.threads.map((t) => [t.name, t.tid, t.cpu, t.busyCpu]),
    [
      ["main thread", null, 0.5, 0.5],
      ["worker 0", 101, 0.95, 0.9],
      ["worker 1", 102, 0.6, 0.6],
    ],
  );
  equal(report.generator.busyCpu, 0.9);
  equal(report.valid, true, "90% is not over 90%");
  match(report.warnings.join(), /its busiest thread \(worker 0\) was 90% busy/);
});

Deno.test("the report names its layout, its tool and when it started", () => {
  const report = buildLoadReport(
    measurements({ startedAt: "2026-12-01T12:00:00.000Z" }),
  );
  equal(report.schemaVersion, LOAD_REPORT_SCHEMA_VERSION);
  equal(report.tool.name, "linechat-load");
  match(report.tool.version, /^\d+\.\d+\.\d+/);
  equal(report.startedAt, "2026-12-01T12:00:00.000Z");
});

Deno.test("a lost line, a server that exited, a run where nothing arrived", () => {
  const lossy = buildLoadReport(measurements({}, { delivered: 1990 }));
  deepEqual([lossy.accounting.lost, lossy.accounting.deliveryRatio], [
    10,
    0.995,
  ]);
  equal(
    buildLoadReport(
      measurements({ server: { ...measurements().server!, alive: false } }),
    )
      .failure,
    "the server process exited",
  );
  equal(
    buildLoadReport(measurements({}, { delivered: 0 })).failure,
    "stalled: no line was delivered",
  );
  equal(
    buildLoadReport(
      measurements({ failure: "join timed out" }, { delivered: 0 }),
    )
      .failure,
    "join timed out",
  );
});

Deno.test("a run that failed before sending: no window, no CPU figures", () => {
  const report = buildLoadReport(
    measurements(
      {
        window: { startUs: Infinity, endUs: Infinity, samples: undefined },
        server: null,
      },
      { delivered: 0, windowDelivered: 0 },
      { linesSent: 0, windowOffered: 0 },
    ),
  );
  equal(Number.isNaN(report.window.seconds), true, "JSON null, as before");
  deepEqual(
    [
      report.generator.busyCpu,
      report.generator.otherCpu,
      report.network,
      report.server,
    ],
    [0, null, null, null],
  );
  equal(report.valid, true);
});
