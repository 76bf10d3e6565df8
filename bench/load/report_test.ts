import { deepEqual, equal, match } from "node:assert/strict";
import type { ProcSample, SystemCpuSample } from "../../lib/proc_stats.ts";
import type { LatencySummary } from "../latency_histogram.ts";
import type { TallySummary } from "./accounting.ts";
import { resolveLoadOptions } from "./options.ts";
import { buildLoadReport, type LoadMeasurements } from "./report.ts";
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
    limits: { maxCpu: 0.9, maxOtherCpu: 0.25, maxLagMs: 5 },
    failure: null,
    connect: {
      attempted: 11,
      connected: 11,
      failed: 0,
      errors: {},
      timeMs: latency(1),
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
  match(report.invalidReasons.join(), /other processes used 0\.40 cores/);
});

Deno.test("invalid when the generator is saturated or behind its schedule", () => {
  const busy = edges(1.7);
  busy.end.thread = proc(2000, 10.2);
  const report = buildLoadReport(
    measurements({ window: { startUs: 0, endUs: 2e6, samples: busy } }, {}, {
      lag: latency(9),
    }),
  );
  equal(report.valid, false);
  deepEqual(report.invalidReasons, [
    "the generator saturated its CPU (main thread 100% busy > 90%)",
    "the generator fell behind its schedule (send lag p99 9 ms, over 5 ms and over half the measured p99 4 ms)",
  ]);
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
