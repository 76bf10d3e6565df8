/**
 * What a load run is told: {@linkcode LoadOptions}, in groups by what they
 * set (the target, the workload, the time limits, the measurement, the
 * receive path, progress), and {@linkcode resolveLoadOptions}, which checks
 * them and fills in the defaults once, so that every other part of the
 * generator reads settings that are known to be whole.
 *
 * @module
 */

import {
  formatLoadTarget,
  type LoadTarget,
  type LoadTargetSpec,
  resolveTarget,
  type TargetKind,
} from "./connection.ts";
import { randomTag } from "./payload.ts";
import type { RateSpec } from "./rate_schedule.ts";
import { DEFAULT_LIMITS } from "./validity.ts";
import { processProbe, type ServerProbe } from "./window.ts";

export type { LoadTarget } from "./connection.ts";

/** Where the clients connect. */
export interface LoadTargetOptions {
  /**
   * Server address.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** Server port. */
  port: number;
  /**
   * How the clients speak to it: TCP, TLS, or WebSocket (`ws`, `wss`:
   * one message is one line, PROTOCOL.md §6).
   *
   * @default {"tcp"}
   */
  kind?: TargetKind;
  /**
   * The WebSocket path.
   *
   * @default {"/ws"}
   */
  path?: string;
  /**
   * More targets in one room (nodes of a cluster, or the same server
   * over another transport): client `i` connects to the `i % n`-th of the
   * main target and these, so clients and senders are spread evenly.
   *
   * @default {[]}
   */
  extraTargets?: LoadTargetSpec[];
  /**
   * Certificates (PEM text) to trust besides the system's, for `tls` and
   * `wss` targets.
   *
   * @default {[]}
   */
  caCerts?: string[];
}

/** What the clients do. */
export interface LoadWorkloadOptions {
  /**
   * Clients connected and reading (senders included).
   *
   * @default {100}
   */
  clients?: number;
  /**
   * How many of the clients send (the first ones connected).
   *
   * @default {1}
   */
  senders?: number;
  /**
   * Lines per second per sender, on a fixed schedule (open loop). `0`
   * sends as fast as the server takes them: each sender keeps `window`
   * lines in flight (closed loop). A {@linkcode RateSpec} ramps from one
   * rate to another once the measured window opens.
   *
   * @default {100}
   */
  rate?: number | RateSpec;
  /**
   * Bytes per line, terminator excluded (at least the payload header,
   * about 30 bytes). Not used with a payload file.
   *
   * @default {64}
   */
  size?: number;
  /**
   * A file whose lines are the lines' content after the header, in turn
   * (sizes and bytes are the file's).
   *
   * @default {undefined: padding to `size`}
   */
  payloadFile?: string;
  /**
   * The payload bodies themselves (as `payloadBodies` splits a file);
   * takes precedence over reading `payloadFile`.
   *
   * @default {undefined}
   */
  payloadLines?: Uint8Array[];
  /**
   * Threads the generator runs on: `1` runs everything on the main
   * thread; `N` spreads the clients (and so the senders) over N workers,
   * whose counts merge exactly; `"auto"` is {@linkcode autoWorkers}.
   *
   * @default {1}
   */
  workers?: number | "auto";
  /**
   * Length of the measured window, ms.
   *
   * @default {10000}
   */
  durationMs?: number;
  /**
   * Sending before the measured window (not measured), ms.
   *
   * @default {2000}
   */
  warmupMs?: number;
  /**
   * Each sender stops after this many lines (the run ends sooner if they
   * are all sent). `undefined` means no limit but the duration.
   *
   * @default {undefined}
   */
  lines?: number;
  /**
   * New connections per second during the ramp; `0` means as fast as
   * possible (at most 256 connecting at once).
   *
   * @default {1000}
   */
  connectRate?: number;
  /**
   * With `rate: 0`, lines each sender keeps in flight (sent and not yet
   * received by everyone).
   *
   * @default {256}
   */
  window?: number;
  /**
   * Extra clients that connect and never read (slow consumers). They are
   * not counted as receivers; the report says whether the server closed
   * them.
   *
   * @default {0}
   */
  slowConsumers?: number;
  /**
   * After sending stops, how long to wait for lines still in flight, ms.
   *
   * @default {5000}
   */
  drainMs?: number;
}

/** How long the run may take to get going before it fails. */
export interface LoadTimeoutOptions {
  /**
   * How long the join phase may take before the run fails, ms.
   *
   * @default {10000 + 2 × clients}
   */
  joinTimeoutMs?: number;
  /**
   * How long the whole ramp may take before the run fails, ms.
   *
   * @default {30000 + the ramp's scheduled length}
   */
  rampTimeoutMs?: number;
}

/** How the server and the generator itself are measured and judged. */
export interface LoadMeasurementOptions {
  /**
   * The server's process id, to sample its CPU and memory from `/proc`.
   *
   * @default {undefined}
   */
  serverPid?: number;
  /**
   * How to measure the server, when not one process: e.g. the process
   * group of a server `deno task load --spawn` started. Takes precedence
   * over `serverPid`.
   *
   * @default {processProbe(serverPid) when serverPid is given}
   */
  server?: ServerProbe;
  /**
   * With a server to measure: how many times during the ramp to sample
   * its RSS (memory per connection is the slope).
   *
   * @default {10}
   */
  rssSteps?: number;
  /**
   * With a server to measure: pause after each ramp step before sampling
   * RSS, ms.
   *
   * @default {250}
   */
  rssSettleMs?: number;
  /**
   * The run is invalid when the generator's 99th-percentile lag behind
   * its own schedule (excluding waits for the server) exceeds this, ms,
   * and half the measured p99 latency (so that the generator's lateness,
   * not the server, would dominate what was measured). A smaller lag is
   * a warning (see `validity.ts`).
   *
   * @default {20}
   */
  maxLagMs?: number;
  /**
   * The run is invalid when the generator's busiest thread (its main
   * thread, or with workers the busiest worker) is busier than this share
   * of one core during the measured window: it, not the server, was the
   * limit.
   *
   * @default {0.9}
   */
  maxCpu?: number;
  /**
   * With a server to measure: the run is invalid when other processes
   * (neither the generator nor the server) used more than this many cores
   * during the window, since they then took the CPU being measured; more
   * than a quarter of a core is a warning.
   *
   * @default {1}
   */
  maxOtherCpu?: number;
  /**
   * For precise send times, the scheduler sleeps with a timer until this
   * long before a line is due and then polls (timers alone are 1 to 4 ms
   * late). `0` uses timers only and spends no CPU polling.
   *
   * @default {0}
   */
  spinMs?: number;
}

/** The receive path's buffers and limits. */
export interface LoadReceiveOptions {
  /**
   * Read buffer per connection, bytes.
   *
   * @default {16384}
   */
  readBufferBytes?: number;
  /**
   * Longest line accepted from the server; longer ones count as
   * malformed.
   *
   * @default {1048576}
   */
  maxLineBytes?: number;
}

/** Progress reports, extra outputs and cancellation. */
export interface LoadControlOptions {
  /**
   * Keep the whole latency distribution for the report (`--latency`).
   *
   * @default {false}
   */
  latencyDistribution?: boolean;
  /**
   * Write the per-second latency histograms here, in HdrHistogram's
   * interval log format (`--hdr-out`).
   *
   * @default {undefined}
   */
  hdrOut?: string;
  /**
   * Called about once per `progressIntervalMs` with the run's state.
   *
   * @default {undefined}
   */
  onProgress?: (progress: LoadProgress) => void;
  /**
   * How often `onProgress` is called, ms.
   *
   * @default {1000}
   */
  progressIntervalMs?: number;
  /**
   * Ends the run early (it still reports what it measured).
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * Options for `runLoad`: every group above, as one flat object.
 *
 * @example
 * ```ts
 * import type { LoadOptions } from "./options.ts";
 * const options: LoadOptions = { port: 7687, clients: 100, senders: 10, rate: 100 };
 * console.log(options.clients); // 100
 * ```
 */
export interface LoadOptions
  extends
    LoadTargetOptions,
    LoadWorkloadOptions,
    LoadTimeoutOptions,
    LoadMeasurementOptions,
    LoadReceiveOptions,
    LoadControlOptions {}

/** A phase of a run, in order. */
export type LoadPhase = "ramp" | "join" | "warmup" | "run" | "drain" | "close";

/** The state passed to {@linkcode LoadControlOptions.onProgress}. */
export interface LoadProgress {
  /** The phase running. */
  phase: LoadPhase;
  /** Seconds since the run started. */
  elapsedSeconds: number;
  /** Clients connected. */
  connected: number;
  /** Lines sent so far. */
  linesSent: number;
  /** Deliveries received so far. */
  delivered: number;
  /** Deliveries per second over the last interval. */
  deliveredPerSecond: number;
  /** Corrected p99 latency so far (measured window only), ms. */
  p99Ms: number;
}

/** The settings a run used, defaults filled in (the report's `config`). */
export interface LoadConfig {
  /** The targets, as `--target` writes them, space-separated. */
  target: string;
  clients: number;
  senders: number;
  /** Lines per second per sender (a ramp's first rate); 0: closed loop. */
  rate: number;
  /** The ramp, when the rate is one (else null). */
  rateRamp: RateSpec | null;
  size: number;
  /** The payload file, when lines carry its lines (else null). */
  payloadFile: string | null;
  /** How many bodies it gave, and their mean length in bytes. */
  payloadLines: number | null;
  payloadMeanBytes: number | null;
  /** Threads the generator ran on (1: the main thread). */
  workers: number;
  durationMs: number;
  warmupMs: number;
  lines: number | null;
  connectRate: number;
  window: number;
  slowConsumers: number;
  drainMs: number;
  spinMs: number;
  tag: string;
}

/** Everything a run reads, checked and with every default filled in. */
export interface LoadSettings {
  /** What the report shows as its `config`. */
  config: LoadConfig;
  /** The main target, then the extra ones (client `i`: `i % n`). */
  targets: LoadTarget[];
  /** Certificates to trust for TLS and WSS targets. */
  caCerts: string[];
  /** With a payload file: the bodies lines carry. */
  bodies: Uint8Array[] | undefined;
  /** How the server is measured; undefined when it is not. */
  server: ServerProbe | undefined;
  /** Ramp steps: `rssSteps` with a server to measure, else 1. */
  rampSteps: number;
  rssSettleMs: number;
  rampTimeoutMs: number;
  joinTimeoutMs: number;
  maxLagMs: number;
  maxCpu: number;
  maxOtherCpu: number;
  readBufferBytes: number;
  maxLineBytes: number;
  progressIntervalMs: number;
}

/**
 * How many workers a `workers` option means for `clients` clients.
 *
 * @example
 * ```ts
 * import { resolveWorkers } from "./options.ts";
 * console.log(resolveWorkers(undefined, 100), resolveWorkers(4, 3)); // 1 3
 * ```
 */
export function resolveWorkers(
  workers: number | "auto" | undefined,
  clients: number,
): number {
  const n = workers === "auto" ? autoWorkers(undefined, clients) : workers ?? 1;
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new RangeError(`workers must be from 1 to 64, got ${n}`);
  }
  // Never more workers than clients: each holds at least one.
  return Math.min(n, clients);
}

/**
 * Checks `options` and fills in the defaults. Throws a `RangeError` for
 * client and sender counts a run cannot hold (flags are checked before,
 * by `deno task load`'s parser, with one-line messages).
 *
 * @example
 * ```ts
 * import { resolveLoadOptions } from "./options.ts";
 * const { config, targets } = resolveLoadOptions({ port: 7000, rate: 0 });
 * console.log(config.clients, config.rate, targets[0]);
 * // 100 0 { kind: "tcp", hostname: "127.0.0.1", port: 7000, path: "" }
 * ```
 */
export function resolveLoadOptions(options: LoadOptions): LoadSettings {
  const clients = options.clients ?? 100;
  const senders = options.senders ?? 1;
  if (!Number.isInteger(clients) || clients < 1) {
    throw new RangeError(`clients must be at least 1, got ${clients}`);
  }
  if (!Number.isInteger(senders) || senders < 0 || senders > clients) {
    throw new RangeError(
      `senders must be from 0 to clients (${clients}), got ${senders}`,
    );
  }
  if (senders > 999_999) throw new RangeError("at most 999999 senders");
  if (clients * senders > 50_000_000) {
    throw new RangeError(
      "clients × senders is over 50 million: per-sender accounting in " +
        "every receiver would not fit in memory",
    );
  }
  const targets = [
    {
      kind: options.kind,
      hostname: options.hostname,
      port: options.port,
      path: options.path,
    },
    ...options.extraTargets ?? [],
  ].map(resolveTarget);
  const slowConsumers = options.slowConsumers ?? 0;
  const rate = options.rate ?? 100;
  const rateRamp = typeof rate === "number" || rate.overMs === 0 ? null : rate;
  const bodies = options.payloadLines;
  const config: LoadConfig = {
    target: targets.map(formatLoadTarget).join(" "),
    clients,
    senders,
    rate: typeof rate === "number" ? rate : rate.from,
    rateRamp,
    size: options.size ?? 64,
    payloadFile: bodies ? options.payloadFile ?? "(given)" : null,
    payloadLines: bodies ? bodies.length : null,
    payloadMeanBytes: bodies
      ? Math.round(
        (bodies.reduce((n, b) => n + b.length, 0) / bodies.length) * 10,
      ) / 10
      : null,
    workers: resolveWorkers(options.workers, clients),
    durationMs: options.durationMs ?? 10_000,
    warmupMs: options.warmupMs ?? 2000,
    lines: options.lines ?? null,
    connectRate: options.connectRate ?? 1000,
    window: options.window ?? 256,
    slowConsumers,
    drainMs: options.drainMs ?? 5000,
    spinMs: options.spinMs ?? 0,
    tag: randomTag(),
  };
  const server = options.server ??
    (options.serverPid === undefined
      ? undefined
      : processProbe(options.serverPid));
  const connecting = config.clients + config.slowConsumers;
  return {
    config,
    targets,
    caCerts: options.caCerts ?? [],
    bodies,
    server,
    rampSteps: server === undefined ? 1 : Math.max(1, options.rssSteps ?? 10),
    rssSettleMs: options.rssSettleMs ?? 250,
    rampTimeoutMs: options.rampTimeoutMs ??
      30_000 +
        (config.connectRate > 0 ? (connecting / config.connectRate) * 1000 : 0),
    joinTimeoutMs: options.joinTimeoutMs ?? 10_000 + 2 * clients,
    maxLagMs: options.maxLagMs ?? DEFAULT_LIMITS.maxLagMs,
    maxCpu: options.maxCpu ?? DEFAULT_LIMITS.maxCpu,
    maxOtherCpu: options.maxOtherCpu ?? DEFAULT_LIMITS.maxOtherCpu,
    readBufferBytes: options.readBufferBytes ?? 16 * 1024,
    maxLineBytes: options.maxLineBytes ?? 1024 * 1024,
    progressIntervalMs: options.progressIntervalMs ?? 1000,
  };
}

/**
 * How many workers `--workers auto` means on a machine of `cores`: one
 * per core but one, which the server under test keeps, at most 8, and
 * never more than one per 2 clients; 1 on a machine of one or two cores
 * (there, extra threads only compete with the server).
 *
 * @example
 * ```ts
 * import { autoWorkers } from "./options.ts";
 * console.log(autoWorkers(2, 100), autoWorkers(8, 100), autoWorkers(32, 100)); // 1 7 8
 * ```
 */
export function autoWorkers(
  cores: number = navigator.hardwareConcurrency,
  clients = Infinity,
): number {
  return Math.max(1, Math.min(cores - 1, 8, Math.floor(clients / 2)));
}
