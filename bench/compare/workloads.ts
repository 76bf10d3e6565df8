/**
 * The workloads `deno task compare` runs against every server: plain data,
 * so adding one (a cross-node workload, say) is adding an entry to
 * {@linkcode WORKLOADS}.
 *
 * @module
 */

import type { LoadOptions } from "../load/options.ts";
import { formatRate } from "../load/rate_schedule.ts";

/** The load-generator settings of one measurement (no target). */
export type WorkloadLoad = Omit<
  LoadOptions,
  | "hostname"
  | "port"
  | "kind"
  | "path"
  | "extraTargets"
  | "caCerts"
  | "serverPid"
  | "server"
  | "onProgress"
  | "signal"
  | "payloadLines"
  | "latencyDistribution"
  | "hdrOut"
>;

/** One measurement of a workload: a label, an x value and the load. */
export interface WorkloadPoint {
  /** Short label, unique within the workload, e.g. `"1000 clients"`. */
  label: string;
  /** Clients connected: the x axis of charts. */
  clients: number;
  /** The load generator's settings. */
  load: WorkloadLoad;
}

/** What a workload's table shows for each server. */
export type WorkloadMetric =
  | "deliveredPerSecond"
  | "p50"
  | "p99"
  | "p999"
  | "max"
  | "p99Actual"
  | "serverCpuPerMillion"
  | "serverCpu"
  | "rssPerConnection"
  | "rssConnected"
  | "lastDelivery";

/** A named set of measurements, run against every server. */
export interface Workload {
  /** Short id, e.g. `"saturation"`. */
  id: string;
  /** Section title in the report. */
  title: string;
  /** What it measures and why, one paragraph. */
  description: string;
  /** Columns of its table, in order. */
  metrics: WorkloadMetric[];
  /** The metric compared across servers (ratio to the baseline). */
  headline: WorkloadMetric;
  /** Its measurements. */
  points: WorkloadPoint[];
  /** Settings for `--quick` (CI smoke test): replaces `points`. */
  quickPoints: WorkloadPoint[];
}

/** Short measured windows for `--quick`. */
const QUICK = {
  durationMs: 600,
  warmupMs: 200,
  drainMs: 2000,
  rssSteps: 1,
  rssSettleMs: 50,
} as const;

/**
 * Lines in flight in the saturation workload. With the generator on
 * workers the default 256 makes the closed loop latency-bound: neither
 * the generator nor the server is busy (docs/load.md has the figures).
 */
const SATURATION_WINDOW = 1024;

/**
 * The workloads. Each point is one load-generator run per server
 * per round. Rates and sizes are chosen so that the generator, which
 * shares the machine's two cores with the server, stays below saturation
 * wherever the server can keep up (see the README section).
 *
 * @example
 * ```ts
 * import { WORKLOADS } from "./workloads.ts";
 * console.log(WORKLOADS.map((w) => w.id)); // ["saturation", "latency", "scaling", "idle", "slow-consumer"]
 * ```
 */
export const WORKLOADS: readonly Workload[] = [
  {
    id: "saturation",
    headline: "deliveredPerSecond",
    title: "Saturation fan-out",
    description:
      "100 clients, 1 sender, 64-byte lines, as fast as the server takes " +
      "them (--rate 0: 1,024 lines in flight), the generator on 2 workers " +
      "so that it is not the limit. Delivered lines per second, and the " +
      "server's CPU-seconds per million deliveries, which stays " +
      "meaningful whatever the limit is.",
    metrics: [
      "deliveredPerSecond",
      "serverCpuPerMillion",
      "serverCpu",
      "p99",
    ],
    points: [{
      label: "100 clients",
      clients: 100,
      load: {
        clients: 100,
        senders: 1,
        rate: 0,
        size: 64,
        window: SATURATION_WINDOW,
        durationMs: 5000,
        warmupMs: 1000,
        rssSteps: 1,
        workers: 2,
      },
    }],
    quickPoints: [{
      label: "100 clients",
      clients: 100,
      load: {
        clients: 100,
        senders: 1,
        rate: 0,
        size: 64,
        window: SATURATION_WINDOW,
        workers: 2,
        ...QUICK,
      },
    }],
  },
  {
    id: "latency",
    headline: "p99",
    title: "Latency at a fixed offered load",
    description:
      "100 clients, 10 senders × 100 lines/s (99,000 deliveries/s), " +
      "64-byte lines. Latency from the intended send time (corrected for " +
      "coordinated omission) and from the actual one.",
    metrics: ["p50", "p99", "p999", "max", "p99Actual", "serverCpu"],
    points: [{
      label: "100 clients",
      clients: 100,
      load: {
        clients: 100,
        senders: 10,
        rate: 100,
        size: 64,
        durationMs: 10_000,
        warmupMs: 2000,
        rssSteps: 1,
      },
    }],
    quickPoints: [{
      label: "100 clients",
      clients: 100,
      load: { clients: 100, senders: 10, rate: 100, size: 64, ...QUICK },
    }],
  },
  {
    id: "scaling",
    headline: "p99",
    title: "Scaling with clients at a fixed offered load",
    description: "5 senders × 2 lines/s (10 lines/s in, 10 × (clients − 1) " +
      "deliveries/s out), 64-byte lines, with 10, 100, 1,000 and 5,000 " +
      "clients connected at 1,000 per second.",
    metrics: ["deliveredPerSecond", "p50", "p99", "max", "serverCpu"],
    points: [10, 100, 1000, 5000].map((clients) => ({
      label: `${clients} clients`,
      clients,
      load: {
        clients,
        senders: 5,
        rate: 2,
        size: 64,
        durationMs: 5000,
        warmupMs: 1000,
        connectRate: 1000,
        rssSteps: 1,
      },
    })),
    quickPoints: [10, 100].map((clients) => ({
      label: `${clients} clients`,
      clients,
      load: { clients, senders: 5, rate: 2, size: 64, ...QUICK },
    })),
  },
  {
    id: "idle",
    headline: "rssPerConnection",
    title: "Idle capacity",
    description:
      "Ramp to 10,000 idle clients (300 with --quick) at 1,000 per " +
      "second, sampling the " +
      "server's RSS ten times on the way: memory per connection is the " +
      "slope of RSS against connections. Then one line is sent and " +
      "delivered to all 9,999 others: how long until the last one had it.",
    metrics: ["rssPerConnection", "rssConnected", "lastDelivery", "p50"],
    points: [{
      label: "10000 clients",
      clients: 10_000,
      load: {
        clients: 10_000,
        senders: 1,
        rate: 0,
        lines: 1,
        warmupMs: 0,
        durationMs: 10_000,
        drainMs: 10_000,
        connectRate: 1000,
        rssSteps: 10,
      },
    }],
    quickPoints: [{
      label: "300 clients",
      clients: 300,
      load: {
        clients: 300,
        senders: 1,
        rate: 0,
        lines: 1,
        warmupMs: 0,
        durationMs: 2000,
        drainMs: 2000,
        rssSteps: 3,
        rssSettleMs: 50,
      },
    }],
  },
  {
    id: "slow-consumer",
    headline: "p99",
    title: "A slow consumer present",
    description:
      "100 clients, 10 senders × 100 lines/s of 1,024 bytes (1 MB/s to " +
      "each client), without and then with one extra client that never " +
      "reads. The fast clients' p99 should not change; a server may close " +
      "the slow one (ours does, past 4 MiB pending).",
    metrics: ["p50", "p99", "p999", "max", "deliveredPerSecond"],
    points: [0, 1].map((slow) => ({
      label: slow ? "with a slow consumer" : "without",
      clients: 100,
      load: {
        clients: 100,
        senders: 10,
        rate: 100,
        size: 1024,
        slowConsumers: slow,
        durationMs: 10_000,
        warmupMs: 2000,
        rssSteps: 1,
      },
    })),
    quickPoints: [0, 1].map((slow) => ({
      label: slow ? "with a slow consumer" : "without",
      clients: 20,
      load: {
        clients: 20,
        senders: 2,
        rate: 100,
        size: 1024,
        slowConsumers: slow,
        ...QUICK,
      },
    })),
  },
];

/**
 * The command-line flags of `deno task load` that reproduce `load`.
 *
 * @example
 * ```ts
 * import { loadFlags } from "./workloads.ts";
 * console.log(loadFlags({ clients: 100, rate: 0, durationMs: 5000 }).join(" "));
 * // "--clients 100 --rate 0 --duration 5000ms"
 * ```
 */
export function loadFlags(load: WorkloadLoad): string[] {
  const flags: string[] = [];
  const add = (flag: string, value: number | undefined, unit = "") => {
    if (value !== undefined) flags.push(flag, `${value}${unit}`);
  };
  add("--clients", load.clients);
  add("--senders", load.senders);
  if (load.rate !== undefined) {
    flags.push(
      "--rate",
      typeof load.rate === "number" ? String(load.rate) : formatRate(load.rate),
    );
  }
  add("--size", load.size);
  if (load.payloadFile !== undefined) {
    flags.push("--payload-file", load.payloadFile);
  }
  add("--duration", load.durationMs, "ms");
  add("--warmup", load.warmupMs, "ms");
  add("--lines", load.lines);
  add("--connect-rate", load.connectRate);
  add("--window", load.window);
  add("--slow-consumers", load.slowConsumers);
  add("--drain", load.drainMs, "ms");
  if (load.workers !== undefined) flags.push("--workers", String(load.workers));
  add("--rss-steps", load.rssSteps);
  add("--rss-settle", load.rssSettleMs, "ms");
  add("--max-lag-ms", load.maxLagMs);
  add("--max-cpu", load.maxCpu);
  add("--max-other-cpu", load.maxOtherCpu);
  add("--spin-ms", load.spinMs);
  return flags;
}
