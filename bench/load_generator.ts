/**
 * The load generator behind `deno task load`: connects many clients to any
 * line-chat server, sends numbered, timestamped lines on a fixed schedule,
 * and accounts for every delivery.
 *
 * A run has five phases: **ramp** (connect the clients at the connect
 * rate, sampling the server's memory as they arrive), **join** (probe lines
 * until every client is seen to be in the room, so no line is missed for
 * being sent before the server accepted someone), **run** (warm-up, then
 * the measured window), **drain** (wait for lines still in flight) and
 * **close**.
 *
 * The receive path is lean on purpose, since one process may hold 10,000
 * connections: one read loop per connection over a fixed buffer, the
 * shared {@linkcode LineSplitter}, and a byte-level payload decoder that
 * allocates nothing.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { LineSplitter } from "../protocol/line_splitter.ts";
import { LatencyHistogram, type LatencySummary } from "./latency_histogram.ts";
import {
  PayloadDecoder,
  PayloadEncoder,
  randomTag,
  TAG_LENGTH,
} from "./payload.ts";
import {
  cpuShare,
  type ProcSample,
  sampleProcess,
  sampleSystem,
  sampleThread,
  type SystemCpuSample,
} from "../lib/proc_stats.ts";
import { linearFit, perSecond } from "./statistics.ts";

const BANG = 0x21; // "!" marks a join probe: `<tag>!<prober>`
const ZERO = 0x30;
/** After the join, how long no probe must arrive before sending starts. */
const PROBE_QUIET_MS = 200;
/** Most gap entries remembered to tell reordered lines from duplicates. */
const MAX_TRACKED_GAPS = 1_000_000;

/** Options for {@linkcode runLoad}. */
export interface LoadOptions {
  /**
   * Server address.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** Server port. */
  port: number;
  /**
   * More servers joined into one room (nodes of a cluster): client `i`
   * connects to the `i % n`-th of the main target and these, so clients
   * and senders are spread evenly across the nodes.
   *
   * @default {[]}
   */
  extraTargets?: { hostname?: string; port: number }[];
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
   * lines in flight (closed loop).
   *
   * @default {100}
   */
  rate?: number;
  /**
   * Bytes per line, terminator excluded (at least the payload header,
   * about 30 bytes).
   *
   * @default {64}
   */
  size?: number;
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
  /**
   * The server's process id, to sample its CPU and memory from `/proc`.
   *
   * @default {undefined}
   */
  serverPid?: number;
  /**
   * With `serverPid`: how many times during the ramp to sample the
   * server's RSS (memory per connection is the slope).
   *
   * @default {10}
   */
  rssSteps?: number;
  /**
   * With `serverPid`: pause after each ramp step before sampling RSS, ms.
   *
   * @default {250}
   */
  rssSettleMs?: number;
  /**
   * The run is invalid when the generator's 99th-percentile lag behind
   * its own schedule (excluding waits for the server) exceeds this, ms,
   * and half the measured p99 latency (so that the generator's lateness,
   * not the server, would dominate what was measured).
   *
   * @default {5}
   */
  maxLagMs?: number;
  /**
   * The run is invalid when the generator's main thread is busier than
   * this share of one core during the measured window.
   *
   * @default {0.9}
   */
  maxCpu?: number;
  /**
   * With `serverPid`: the run is invalid when other processes (neither
   * the generator nor the server) used more than this many cores during
   * the window, since they then competed for the CPU being measured.
   *
   * @default {0.25}
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

/** The state passed to {@linkcode LoadOptions.onProgress}. */
export interface LoadProgress {
  /** The phase running. */
  phase: "ramp" | "join" | "warmup" | "run" | "drain" | "close";
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

/** The settings a run used, defaults filled in. */
export interface LoadConfig {
  target: string;
  clients: number;
  senders: number;
  rate: number;
  size: number;
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

/** The server's resource use, when its pid was known. */
export interface ServerUsage {
  pid: number;
  /** Whether the process still existed at the end of the run. */
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

/** Everything a run measured. See the README section for each field. */
export interface LoadReport {
  config: LoadConfig;
  /** False when the generator itself limited the measurement. */
  valid: boolean;
  /** Why it is invalid (empty when valid). */
  invalidReasons: string[];
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
  };
  generator: {
    /** Whole process CPU in the window, share of one core. */
    processCpu: number;
    /** Main thread CPU in the window, share of one core. */
    mainThreadCpu: number;
    /** Estimated share of a core spent polling for precise send times. */
    spinCpu: number;
    /** `mainThreadCpu - spinCpu`: how busy it really was. */
    busyCpu: number;
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
}

class Receiver {
  readonly index: number;
  readonly conn: Deno.TcpConn;
  readonly splitter: LineSplitter;
  /** Highest sequence number seen, per sender (-1: none). */
  readonly high: Float64Array;
  /** Sequence numbers skipped over, per sender, not yet seen. */
  gaps: Map<number, Set<number>> | undefined;
  joined = false;
  done = false;

  constructor(
    index: number,
    conn: Deno.TcpConn,
    senders: number,
    maxLineBytes: number,
  ) {
    this.index = index;
    this.conn = conn;
    this.splitter = new LineSplitter({ maxLineBytes });
    this.high = new Float64Array(senders).fill(-1);
  }
}

interface Sender {
  readonly index: number;
  readonly conn: Deno.TcpConn;
  /** Lines sent so far (the next sequence number). */
  sent: number;
  /** Start of its schedule (ms, performance.now()). */
  phaseMs: number;
  writing: boolean;
  /** Lines fell due while a write was still pending (server not reading). */
  blocked: boolean;
  /** Deliveries of its lines received (closed-loop window). */
  delivered: number;
  wake: (() => void) | undefined;
}

const sleep = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));
const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));

function errorName(error: unknown): string {
  if (error instanceof Error) {
    return error.name === "Error" ? error.message : error.name;
  }
  return String(error);
}

/**
 * Runs one load test against a line-chat server and reports what it
 * measured. Always ends by itself: every phase is bounded in time.
 *
 * @example
 * ```ts ignore
 * import { runLoad } from "./load_generator.ts";
 *
 * const report = await runLoad({ port: 7687, clients: 100, senders: 10, rate: 100, durationMs: 5000 });
 * console.log(report.accounting.lost, report.latency.corrected.p99);
 * ```
 */
export function runLoad(options: LoadOptions): Promise<LoadReport> {
  return new LoadRun(options).run();
}

class LoadRun {
  readonly #options: LoadOptions;
  readonly #config: LoadConfig;
  /** The main target first, then the extra ones (client i: i % n). */
  readonly #targets: { hostname?: string; port: number }[];
  readonly #encoder: PayloadEncoder;
  readonly #decoder: PayloadDecoder;
  readonly #tagBytes: Uint8Array;
  readonly #receivers: Receiver[] = [];
  readonly #senders: Sender[] = [];
  readonly #slow: Deno.TcpConn[] = [];
  readonly #readLoops: Promise<void>[] = [];
  readonly #maxLineBytes: number;
  readonly #readBufferBytes: number;
  readonly #clock0 = performance.now();

  // Accounting.
  #delivered = 0;
  #duplicated = 0;
  #reordered = 0;
  #echoed = 0;
  #foreign = 0;
  #malformed = 0;
  #trackedGaps = 0;
  #joinedCount = 0;
  #lastProbeMs = 0;
  #lastDeliveryUs = 0;
  #firstSendUs = -1;
  #windowDelivered = 0;
  #windowOffered = 0;
  readonly #corrected = new LatencyHistogram();
  readonly #uncorrected = new LatencyHistogram();
  readonly #lag = new LatencyHistogram();
  #blockedLines = 0;
  #spinMs = 0;
  /** A run of equal latencies not yet recorded (see #handleLine). */
  #runCorrected = -1;
  #runUncorrected = -1;
  #runCount = 0;

  // Phase and window (µs of the run clock).
  #phase: LoadProgress["phase"] = "ramp";
  #windowStartUs = Infinity;
  #windowEndUs = Infinity;
  #closing = false;
  readonly #disconnects: Record<string, number> = {};
  #disconnectTotal = 0;

  // Receive-path state shared by every connection (framing is synchronous).
  #current!: Receiver;
  #nowUs = 0;
  readonly #onLine = (bytes: Uint8Array, start: number, end: number) =>
    this.#handleLine(bytes, start, end);
  readonly #onTooLong = () => this.#malformed++;

  constructor(options: LoadOptions) {
    this.#options = options;
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
    const tag = randomTag();
    this.#targets = [
      { hostname: options.hostname, port: options.port },
      ...options.extraTargets ?? [],
    ];
    this.#config = {
      target: this.#targets
        .map((t) => `${t.hostname ?? "127.0.0.1"}:${t.port}`).join(" "),
      clients,
      senders,
      rate: options.rate ?? 100,
      size: options.size ?? 64,
      durationMs: options.durationMs ?? 10_000,
      warmupMs: options.warmupMs ?? 2000,
      lines: options.lines ?? null,
      connectRate: options.connectRate ?? 1000,
      window: options.window ?? 256,
      slowConsumers: options.slowConsumers ?? 0,
      drainMs: options.drainMs ?? 5000,
      spinMs: options.spinMs ?? 0,
      tag,
    };
    this.#encoder = new PayloadEncoder(tag, this.#config.size);
    this.#decoder = new PayloadDecoder(tag);
    this.#tagBytes = new TextEncoder().encode(tag);
    this.#maxLineBytes = options.maxLineBytes ?? 1024 * 1024;
    this.#readBufferBytes = options.readBufferBytes ?? 16 * 1024;
  }

  #clockUs(): number {
    return Math.round((performance.now() - this.#clock0) * 1000);
  }

  async run(): Promise<LoadReport> {
    const config = this.#config;
    const options = this.#options;
    const pid = options.serverPid;
    let failure: string | null = null;
    const connectTimes = new LatencyHistogram();
    const connectErrors: Record<string, number> = {};
    let connectFailed = 0;
    const rssSamples: [number, number][] = [];
    let rssBefore = 0;
    let rssConnected = 0;
    let rssPeak = 0;
    const sampleRss = async (clients: number) => {
      if (pid === undefined) return 0;
      try {
        const { rssBytes } = await sampleProcess(pid);
        rssSamples.push([clients, rssBytes]);
        rssPeak = Math.max(rssPeak, rssBytes);
        return rssBytes;
      } catch {
        return 0;
      }
    };
    const progress = this.#startProgress();
    let rampSeconds = 0;
    let joinMs = 0;
    let windowSamples: {
      self: [ProcSample, ProcSample];
      thread: [ProcSample, ProcSample];
      server: [ProcSample, ProcSample] | undefined;
      system: [SystemCpuSample, SystemCpuSample] | undefined;
    } | undefined;
    let spinAtWindowStart = 0;
    let spinAtWindowEnd = 0;

    try {
      // Ramp.
      rssBefore = await sampleRss(0);
      const rampStart = performance.now();
      const total = config.clients + config.slowConsumers;
      const steps = pid === undefined ? 1 : Math.max(1, options.rssSteps ?? 10);
      const rampDeadline = rampStart + (options.rampTimeoutMs ??
        30_000 +
          (config.connectRate > 0 ? (total / config.connectRate) * 1000 : 0));
      let next = 0;
      for (let step = 1; step <= steps && !failure; step++) {
        const stepEnd = Math.round((total * step) / steps);
        const result = await this.#connectRange(
          next,
          stepEnd,
          rampDeadline,
          connectTimes,
        );
        next = stepEnd;
        for (const [message, count] of Object.entries(result.errors)) {
          connectErrors[message] = (connectErrors[message] ?? 0) + count;
          connectFailed += count;
        }
        if (connectFailed > 0) {
          failure = `${connectFailed} of ${total} connections failed (${
            Object.keys(connectErrors).join(", ")
          })`;
        } else if (result.timedOut) {
          failure = "the ramp timed out";
        }
        if (pid !== undefined && !failure) {
          await sleep(options.rssSettleMs ?? 250);
          await sampleRss(this.#receivers.length + this.#slow.length);
        }
        if (options.signal?.aborted) failure = "aborted";
      }
      rampSeconds = (performance.now() - rampStart) / 1000;
      if (!failure && this.#disconnectTotal > 0) {
        failure =
          `the server closed ${this.#disconnectTotal} clients during the ramp`;
      }

      // Join.
      if (!failure) {
        this.#phase = "join";
        const joinStart = performance.now();
        failure = await this.#join();
        joinMs = performance.now() - joinStart;
        // Not part of the ramp's fit: the probes' fan-out has allocated.
        if (pid !== undefined) {
          rssConnected = await sampleProcess(pid).then(
            (sample) => sample.rssBytes,
            () => 0,
          );
          rssPeak = Math.max(rssPeak, rssConnected);
        }
      }

      // Run.
      if (!failure) {
        this.#phase = config.warmupMs > 0 ? "warmup" : "run";
        const startMs = performance.now();
        const windowStartMs = startMs + config.warmupMs;
        const endMs = windowStartMs + config.durationMs;
        this.#windowStartUs = Math.round((windowStartMs - this.#clock0) * 1000);
        this.#windowEndUs = Math.round((endMs - this.#clock0) * 1000);
        const sending = config.rate > 0
          ? this.#openLoop(startMs, endMs)
          : this.#closedLoop(endMs);
        let selfStart: ProcSample | undefined;
        let threadStart: ProcSample | undefined;
        let serverStart: ProcSample | undefined;
        let systemStart: SystemCpuSample | undefined;
        // The same samples open and close the measured window.
        const sampleAll = () =>
          Promise.all([
            sampleProcess("self"),
            sampleThread(),
            pid === undefined
              ? undefined
              : sampleProcess(pid).catch(() => undefined),
            sampleSystem().catch(() => undefined),
          ]);
        const windowOpened = (async () => {
          await this.#sleepUntil(windowStartMs, sending);
          this.#phase = "run";
          [selfStart, threadStart, serverStart, systemStart] =
            await sampleAll();
          spinAtWindowStart = this.#spinMs;
        })();
        const closeWindow = async () => {
          await windowOpened;
          const [selfEnd, threadEnd, serverEnd, systemEnd] = await sampleAll();
          spinAtWindowEnd = this.#spinMs;
          if (serverEnd) rssPeak = Math.max(rssPeak, serverEnd.rssBytes);
          windowSamples = {
            self: [selfStart!, selfEnd],
            thread: [threadStart!, threadEnd],
            server: serverStart && serverEnd
              ? [serverStart, serverEnd]
              : undefined,
            system: systemStart && systemEnd
              ? [systemStart, systemEnd]
              : undefined,
          };
        };
        await sending;
        await windowOpened;
        const sentUs = this.#clockUs();
        const stoppedEarly = sentUs < this.#windowEndUs;
        if (!stoppedEarly) await closeWindow();

        // Drain.
        this.#phase = "drain";
        const drainEnd = performance.now() + config.drainMs;
        while (
          this.#delivered < this.#expected() &&
          performance.now() < drainEnd && !this.#allReceiversGone()
        ) {
          await sleep(5);
        }
        if (stoppedEarly) {
          // A line limit ended sending early: the window is what was
          // measured, up to the last delivery, and the CPU samples span
          // the same (not the instant it took to send the lines).
          this.#windowEndUs = Math.min(
            this.#windowEndUs,
            Math.max(sentUs, this.#lastDeliveryUs),
          );
          await closeWindow();
        }
      }
    } catch (error) {
      failure = `generator error: ${errorName(error)}`;
    }

    // Close.
    this.#phase = "close";
    const slowReport = await this.#closeAll();
    clearInterval(progress);

    const expected = this.#expected();
    const linesSent = this.#senders.reduce((sum, s) => sum + s.sent, 0);
    let serverAlive = true;
    if (pid !== undefined) {
      try {
        await Deno.stat(`/proc/${pid}`);
        const status = await Deno.readTextFile(`/proc/${pid}/status`);
        serverAlive = !/^State:\s+Z/m.test(status);
      } catch {
        serverAlive = false;
      }
    }
    if (!failure && pid !== undefined && !serverAlive) {
      failure = "the server process exited";
    }
    if (!failure && expected > 0 && this.#delivered === 0) {
      failure = "stalled: no line was delivered";
    }

    const windowSeconds = Math.max(
      0,
      (this.#windowEndUs - this.#windowStartUs) / 1e6,
    );
    const valid: string[] = [];
    let processCpu = 0;
    let mainThreadCpu = 0;
    let spinCpu = 0;
    let server: ServerUsage | null = null;
    if (windowSamples) {
      processCpu = cpuShare(...windowSamples.self);
      mainThreadCpu = cpuShare(...windowSamples.thread);
      const wallSeconds = (windowSamples.thread[1].atMs -
        windowSamples.thread[0].atMs) / 1000;
      spinCpu = wallSeconds > 0
        ? (spinAtWindowEnd - spinAtWindowStart) / 1000 / wallSeconds
        : 0;
    }
    const busyCpu = Math.max(0, mainThreadCpu - spinCpu);
    const maxCpu = options.maxCpu ?? 0.9;
    if (windowSamples && busyCpu > maxCpu) {
      valid.push(
        `the generator saturated its CPU (main thread ${
          Math.round(busyCpu * 100)
        }% busy > ${Math.round(maxCpu * 100)}%)`,
      );
    }
    // CPU the rest of the machine used in the window: everything busy
    // minus the generator and (when known) the server.
    let otherCpu: number | null = null;
    const system = windowSamples?.system;
    if (windowSamples && system) {
      const wallSeconds = (system[1].atMs - system[0].atMs) / 1000;
      const ours = (windowSamples.self[1].cpuSeconds -
        windowSamples.self[0].cpuSeconds) +
        (windowSamples.server
          ? windowSamples.server[1].cpuSeconds -
            windowSamples.server[0].cpuSeconds
          : 0);
      otherCpu = wallSeconds > 0
        ? Math.max(
          0,
          (system[1].busySeconds - system[0].busySeconds - ours) /
            wallSeconds,
        )
        : 0;
      const maxOtherCpu = options.maxOtherCpu ?? 0.25;
      if (pid !== undefined && otherCpu > maxOtherCpu) {
        valid.push(
          `other processes used ${
            otherCpu.toFixed(2)
          } cores of the machine during the window (> ${maxOtherCpu})`,
        );
      }
    }
    const lag = this.#lag.summary();
    const maxLagMs = options.maxLagMs ?? 5;
    const measuredP99 = this.#corrected.summary().p99;
    if (config.rate > 0 && lag.p99 > maxLagMs && lag.p99 > measuredP99 / 2) {
      valid.push(
        `the generator fell behind its schedule (send lag p99 ${lag.p99} ms, ` +
          `over ${maxLagMs} ms and over half the measured p99 ${measuredP99} ms)`,
      );
    }
    if (pid !== undefined) {
      const fit = linearFit(
        rssSamples.map(([clients]) => clients),
        rssSamples.map(([, rss]) => rss),
      );
      const usage = windowSamples?.server;
      const cpuSeconds = usage ? usage[1].cpuSeconds - usage[0].cpuSeconds : 0;
      server = {
        pid,
        alive: serverAlive,
        cpuSeconds: round(cpuSeconds, 3),
        cpuShare: usage ? round(cpuShare(usage[0], usage[1]), 3) : 0,
        cpuSecondsPerMillionDeliveries: usage && this.#windowDelivered > 0
          ? round(cpuSeconds / (this.#windowDelivered / 1e6), 3)
          : null,
        rssBeforeBytes: rssBefore,
        rssConnectedBytes: rssConnected,
        rssPeakBytes: rssPeak,
        rssPerConnectionBytes: fit ? Math.round(fit.slope) : null,
        rssFitR2: fit ? round(fit.r2, 4) : null,
        rssSamples,
      };
    }

    return {
      config,
      valid: valid.length === 0,
      invalidReasons: valid,
      failure,
      connect: {
        attempted: config.clients + config.slowConsumers,
        connected: this.#receivers.length + this.#slow.length,
        failed: connectFailed,
        errors: connectErrors,
        timeMs: connectTimes.summary(),
        rampSeconds: round(rampSeconds, 3),
        joinMs: round(joinMs, 1),
      },
      disconnects: {
        total: this.#disconnectTotal,
        byPhase: { ...this.#disconnects },
      },
      window: {
        seconds: round(windowSeconds, 3),
        offeredLinesPerSecond: round(
          perSecond(this.#windowOffered, windowSeconds),
          1,
        ),
        offeredDeliveriesPerSecond: round(
          perSecond(
            this.#windowOffered * Math.max(0, this.#receivers.length - 1),
            windowSeconds,
          ),
          1,
        ),
        deliveredPerSecond: round(
          perSecond(this.#windowDelivered, windowSeconds),
          1,
        ),
      },
      accounting: {
        linesSent,
        expected,
        delivered: this.#delivered,
        lost: Math.max(0, expected - this.#delivered),
        duplicated: this.#duplicated,
        reordered: this.#reordered,
        echoed: this.#echoed,
        foreign: this.#foreign,
        malformed: this.#malformed,
        deliveryRatio: expected === 0
          ? 1
          : round(this.#delivered / expected, 6),
      },
      latency: {
        corrected: this.#corrected.summary(),
        uncorrected: this.#uncorrected.summary(),
        lastDeliveryMs: this.#firstSendUs < 0 || this.#lastDeliveryUs === 0
          ? 0
          : round((this.#lastDeliveryUs - this.#firstSendUs) / 1000, 3),
      },
      generator: {
        processCpu: round(processCpu, 3),
        mainThreadCpu: round(mainThreadCpu, 3),
        spinCpu: round(spinCpu, 3),
        busyCpu: round(busyCpu, 3),
        lagMs: lag,
        blockedLines: this.#blockedLines,
        otherCpu: otherCpu === null ? null : round(otherCpu, 3),
      },
      network: networkDelta(windowSamples?.system),
      slowConsumers: {
        count: this.#slow.length,
        closedByServer: slowReport.closed,
        bytesPending: slowReport.bytes,
      },
      server,
    };
  }

  /** Deliveries a correct server makes for the lines sent so far. */
  #expected(): number {
    const others = this.#receivers.length - 1;
    let sent = 0;
    for (const sender of this.#senders) sent += sender.sent;
    return sent * Math.max(0, others);
  }

  #allReceiversGone(): boolean {
    return this.#receivers.every((r) => r.done);
  }

  /**
   * Connects clients `from` to `to` (exclusive) at the connect rate. The
   * schedule starts afresh with each step, so a pause between steps never
   * turns into a burst of catching up.
   */
  async #connectRange(
    from: number,
    to: number,
    deadline: number,
    times: LatencyHistogram,
  ): Promise<{ errors: Record<string, number>; timedOut: boolean }> {
    const config = this.#config;
    const errors: Record<string, number> = {};
    const inFlight = new Set<Promise<void>>();
    let timedOut = false;
    const start = performance.now();
    for (let i = from; i < to; i++) {
      if (this.#options.signal?.aborted) break;
      if (config.connectRate > 0) {
        await this.#sleepUntil(
          start + ((i - from) / config.connectRate) * 1000,
        );
      }
      while (inFlight.size >= 256) await Promise.race(inFlight);
      if (performance.now() > deadline) {
        timedOut = true;
        break;
      }
      const slow = i >= config.clients;
      const attempt = (async () => {
        const start = performance.now();
        try {
          const targets = this.#targets;
          const target = targets[i % targets.length];
          const conn = await Deno.connect({
            hostname: target.hostname ?? "127.0.0.1",
            port: target.port,
            transport: "tcp",
          });
          times.record((performance.now() - start) * 1000);
          try {
            conn.setNoDelay(true);
          } catch {
            // Already reset: the read loop will see it.
          }
          if (slow) {
            this.#slow.push(conn);
          } else {
            this.#addReceiver(conn);
          }
        } catch (error) {
          const name = errorName(error);
          errors[name] = (errors[name] ?? 0) + 1;
        }
      })();
      inFlight.add(attempt);
      attempt.finally(() => inFlight.delete(attempt));
    }
    const finished = await withTimeout(
      Promise.all(inFlight),
      deadline - performance.now(),
    );
    if (!finished) timedOut = true;
    return { errors, timedOut };
  }

  #addReceiver(conn: Deno.TcpConn): void {
    // Receivers are numbered in the order their connections completed,
    // which is the order the first `senders` of them send in.
    const index = this.#receivers.length;
    const receiver = new Receiver(
      index,
      conn,
      this.#config.senders,
      this.#maxLineBytes,
    );
    this.#receivers.push(receiver);
    if (index < this.#config.senders) {
      this.#senders.push({
        index,
        conn,
        sent: 0,
        phaseMs: 0,
        writing: false,
        blocked: false,
        delivered: 0,
        wake: undefined,
      });
    }
    this.#readLoops.push(this.#readLoop(receiver));
  }

  async #readLoop(receiver: Receiver): Promise<void> {
    const buffer = new Uint8Array(this.#readBufferBytes);
    const conn = receiver.conn;
    try {
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) break;
        this.#nowUs = Math.round((performance.now() - this.#clock0) * 1000);
        this.#current = receiver;
        receiver.splitter.pushSpans(
          buffer.subarray(0, n),
          this.#onLine,
          this.#onTooLong,
        );
        this.#flushLatencyRun();
        this.#wakeSenders();
      }
    } catch {
      // A reset or a closed connection: counted below.
    }
    receiver.done = true;
    if (!this.#closing) {
      this.#disconnectTotal++;
      this.#disconnects[this.#phase] = (this.#disconnects[this.#phase] ?? 0) +
        1;
    }
  }

  #handleLine(bytes: Uint8Array, start: number, end: number): void {
    const decoder = this.#decoder;
    const receiver = this.#current;
    const result = decoder.decodeSpan(bytes, start, end, this.#config.size);
    if (result !== "ok") {
      if (result === "malformed") this.#malformed++;
      else if (!this.#handleProbe(receiver, bytes.subarray(start, end))) {
        this.#foreign++;
      }
      return;
    }
    const sender = decoder.sender;
    if (sender >= this.#senders.length) {
      this.#malformed++;
      return;
    }
    if (sender === receiver.index) {
      this.#echoed++;
      return;
    }
    const seq = decoder.seq;
    const high = receiver.high[sender];
    if (seq === high + 1) {
      receiver.high[sender] = seq;
    } else if (seq > high + 1) {
      receiver.high[sender] = seq;
      this.#rememberGap(receiver, sender, high + 1, seq);
    } else if (this.#fillGap(receiver, sender, seq)) {
      this.#reordered++;
    } else {
      this.#duplicated++;
      return;
    }
    this.#delivered++;
    this.#senders[sender].delivered++;
    const now = this.#nowUs;
    this.#lastDeliveryUs = now;
    if (now >= this.#windowStartUs && now < this.#windowEndUs) {
      this.#windowDelivered++;
    }
    const intended = decoder.intendedUs;
    if (intended >= this.#windowStartUs && intended < this.#windowEndUs) {
      // Lines of one batch usually share their latency (one clock reading
      // per read, one timestamp per batch sent): record runs, not lines.
      const corrected = now - intended;
      const uncorrected = now - decoder.actualUs;
      if (
        corrected === this.#runCorrected && uncorrected === this.#runUncorrected
      ) {
        this.#runCount++;
      } else {
        this.#flushLatencyRun();
        this.#runCorrected = corrected;
        this.#runUncorrected = uncorrected;
        this.#runCount = 1;
      }
    }
  }

  #flushLatencyRun(): void {
    if (this.#runCount === 0) return;
    this.#corrected.recordMany(this.#runCorrected, this.#runCount);
    this.#uncorrected.recordMany(this.#runUncorrected, this.#runCount);
    this.#runCount = 0;
  }

  #rememberGap(
    receiver: Receiver,
    sender: number,
    from: number,
    to: number,
  ): void {
    if (this.#trackedGaps + (to - from) > MAX_TRACKED_GAPS) return;
    receiver.gaps ??= new Map();
    let gaps = receiver.gaps.get(sender);
    if (!gaps) receiver.gaps.set(sender, gaps = new Set());
    for (let seq = from; seq < to; seq++) gaps.add(seq);
    this.#trackedGaps += to - from;
  }

  #fillGap(receiver: Receiver, sender: number, seq: number): boolean {
    const gaps = receiver.gaps?.get(sender);
    if (!gaps?.delete(seq)) return false;
    this.#trackedGaps--;
    return true;
  }

  /** Handles a join probe `<tag>!<prober>`; false if it is not one. */
  #handleProbe(receiver: Receiver, line: Uint8Array): boolean {
    const tag = this.#tagBytes;
    if (line.length < TAG_LENGTH + 2 || line[TAG_LENGTH] !== BANG) return false;
    for (let i = 0; i < TAG_LENGTH; i++) if (line[i] !== tag[i]) return false;
    let prober = 0;
    for (let i = TAG_LENGTH + 1; i < line.length; i++) {
      const digit = line[i] - ZERO;
      if (digit < 0 || digit > 9) return false;
      prober = prober * 10 + digit;
    }
    this.#lastProbeMs = performance.now();
    if (prober !== receiver.index && !receiver.joined) {
      receiver.joined = true;
      this.#joinedCount++;
    }
    return true;
  }

  /**
   * Sends probe lines from clients 0 and 1 until every client has
   * received one from someone else. Returns a failure message or null.
   */
  async #join(): Promise<string | null> {
    const receivers = this.#receivers;
    if (receivers.length < 2) return null;
    const timeout = this.#options.joinTimeoutMs ??
      10_000 + 2 * receivers.length;
    const deadline = performance.now() + timeout;
    const probers = receivers.slice(0, 2);
    const probes = probers.map((p) =>
      new TextEncoder().encode(`${this.#config.tag}!${p.index}\n`)
    );
    const encoder = new TextEncoder();
    let interval = 50;
    let joinedBefore = -1;
    while (this.#joinedCount < receivers.length) {
      if (performance.now() > deadline) {
        return `join timed out: ${
          receivers.length - this.#joinedCount
        } of ${receivers.length} clients never received a line`;
      }
      const gone = this.#receivers.filter((r) => r.done).length;
      if (gone > 0) {
        return `the server closed ${gone} clients before the run started`;
      }
      const writes = probers.map((p, i) =>
        p.done ? undefined : writeAll(p.conn, probes[i]).catch(() => {})
      );
      if (this.#joinedCount === joinedBefore && interval >= 400) {
        // No progress: some handshakes may be unfinished on the server's
        // side (its accept queue overflowed and it dropped our ACK). Data
        // from the client completes them, so the stragglers say something.
        let nudged = 0;
        for (const r of receivers) {
          if (r.joined || r.done || nudged >= 256) continue;
          nudged++;
          const probe = encoder.encode(`${this.#config.tag}!${r.index}\n`);
          writes.push(writeAll(r.conn, probe).catch(() => {}));
        }
      }
      joinedBefore = this.#joinedCount;
      await Promise.all(writes);
      const until = performance.now() + interval;
      while (
        this.#joinedCount < receivers.length && performance.now() < until
      ) {
        await sleep(5);
      }
      interval = Math.min(1000, interval * 2);
    }
    // Probes sent before the last client joined may still be on their way
    // (a slow server relays them one recipient at a time): let them
    // arrive, so the measured lines do not queue behind them.
    while (
      performance.now() - this.#lastProbeMs < PROBE_QUIET_MS &&
      performance.now() < deadline
    ) {
      await sleep(10);
    }
    return null;
  }

  /** Open loop: line `k` of a sender is due at its phase + k / rate. */
  async #openLoop(startMs: number, endMs: number): Promise<void> {
    const config = this.#config;
    const senders = this.#senders;
    if (senders.length === 0) {
      await this.#sleepUntil(endMs);
      return;
    }
    const periodMs = 1000 / config.rate;
    // Spread the senders evenly over one period.
    senders.forEach((sender, i) => {
      sender.phaseMs = startMs + (periodMs * i) / senders.length;
    });
    const limit = config.lines ?? Infinity;
    const spinMs = config.spinMs;
    const encoder = this.#encoder;
    while (!this.#options.signal?.aborted) {
      const now = performance.now();
      if (now >= endMs) break;
      let nextDue = endMs;
      let allDone = true;
      let waitingOnWrites = false;
      for (const sender of senders) {
        if (sender.sent >= limit) continue;
        allDone = false;
        const dueMs = sender.phaseMs + sender.sent * periodMs;
        if (dueMs > now) {
          if (dueMs < nextDue) nextDue = dueMs;
          continue;
        }
        if (sender.writing) {
          // The socket has not taken the last batch: the server is slow.
          // These lines keep their intended times and leave later.
          sender.blocked = true;
          waitingOnWrites = true;
          continue;
        }
        // Every line due by now, each stamped with its own intended time.
        const dueCount = Math.min(
          limit - sender.sent,
          Math.floor((now - sender.phaseMs) / periodMs) - sender.sent + 1,
        );
        const nowUs = Math.round((now - this.#clock0) * 1000);
        if (sender.blocked) {
          // Late because of the server, not the generator.
          this.#blockedLines += dueCount;
          sender.blocked = false;
        } else {
          this.#lag.record(nowUs - this.#toUs(dueMs));
        }
        const batch = new Uint8Array(encoder.maxBatchBytes(dueCount));
        let offset = 0;
        for (let k = 0; k < dueCount; k++) {
          const seq = sender.sent + k;
          const intendedUs = this.#toUs(sender.phaseMs + seq * periodMs);
          offset = encoder.encodeInto(
            batch,
            offset,
            sender.index,
            seq,
            intendedUs,
            nowUs,
          );
          this.#countOffered(intendedUs);
        }
        sender.sent += dueCount;
        this.#send(sender, batch.subarray(0, offset));
        const nextSenderDue = sender.phaseMs + sender.sent * periodMs;
        if (sender.sent < limit && nextSenderDue < nextDue) {
          nextDue = nextSenderDue;
        }
      }
      if (allDone) break;
      // A sender whose lines are due but whose last write is still pending
      // has no next due time: look again shortly rather than sleeping
      // until the next sender's line (or the end of the run).
      if (waitingOnWrites) nextDue = Math.min(nextDue, now + 1);
      await this.#waitUntil(nextDue, spinMs);
    }
  }

  /** Closed loop (`rate: 0`): keep `window` lines in flight per sender. */
  async #closedLoop(endMs: number): Promise<void> {
    const config = this.#config;
    const others = this.#receivers.length - 1;
    const limit = config.lines ?? Infinity;
    let stopTimer: ReturnType<typeof setTimeout> | undefined;
    const stop = new Promise<void>((resolve) =>
      stopTimer = setTimeout(resolve, Math.max(0, endMs - performance.now()))
    );
    const low = Math.floor(config.window / 2);
    await Promise.all(this.#senders.map(async (sender) => {
      while (
        performance.now() < endMs && sender.sent < limit &&
        !this.#options.signal?.aborted
      ) {
        const inFlight = others > 0
          ? sender.sent - Math.floor(sender.delivered / others)
          : 0;
        // Refill only once half the window has drained, so lines go out in
        // batches rather than one per delivery.
        const room = inFlight > low
          ? 0
          : Math.min(config.window - inFlight, limit - sender.sent);
        if (room <= 0 || sender.writing) {
          await Promise.race([
            new Promise<void>((resolve) => sender.wake = resolve),
            stop,
          ]);
          sender.wake = undefined;
          continue;
        }
        const nowUs = this.#clockUs();
        const batch = new Uint8Array(this.#encoder.maxBatchBytes(room));
        let offset = 0;
        for (let k = 0; k < room; k++) {
          offset = this.#encoder.encodeInto(
            batch,
            offset,
            sender.index,
            sender.sent + k,
            nowUs,
            nowUs,
          );
          this.#countOffered(nowUs);
        }
        sender.sent += room;
        this.#send(sender, batch.subarray(0, offset));
        if (others === 0) await sleep(0);
      }
    }));
    clearTimeout(stopTimer);
  }

  #countOffered(intendedUs: number): void {
    if (this.#firstSendUs < 0) this.#firstSendUs = intendedUs;
    if (intendedUs >= this.#windowStartUs && intendedUs < this.#windowEndUs) {
      this.#windowOffered++;
    }
  }

  #toUs(ms: number): number {
    return Math.round((ms - this.#clock0) * 1000);
  }

  /** Writes a batch; the sender is busy until the socket took all of it. */
  #send(sender: Sender, batch: Uint8Array): void {
    sender.writing = true;
    writeAll(sender.conn, batch).catch(() => {
      // The server closed or reset the sender; its read loop counts it.
    }).finally(() => {
      sender.writing = false;
      sender.wake?.();
    });
  }

  #wakeSenders(): void {
    // Only closed-loop senders wait on deliveries.
    for (const sender of this.#senders) {
      if (sender.wake !== undefined) sender.wake();
    }
  }

  /** Sleeps until `atMs`, or until `cut` settles. */
  async #sleepUntil(atMs: number, cut?: Promise<unknown>): Promise<void> {
    const left = atMs - performance.now();
    if (left <= 0) return;
    if (!cut) return sleep(left);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      new Promise<void>((resolve) => timer = setTimeout(resolve, left)),
      cut,
    ]);
    clearTimeout(timer);
  }

  /**
   * Waits until `atMs`: a timer until `spinMs` before, then polling with
   * `setImmediate` (which lets socket reads run) for the rest. Time spent
   * polling with nothing else to do is counted as spin, not work.
   */
  async #waitUntil(atMs: number, spinMs: number): Promise<void> {
    let left = atMs - performance.now();
    if (left > spinMs) {
      await sleep(left - spinMs);
      left = atMs - performance.now();
    }
    if (spinMs <= 0) {
      if (left > 0) await sleep(left);
      return;
    }
    while (left > 0) {
      const before = performance.now();
      await immediate();
      const after = performance.now();
      // A short turn did nothing but poll; a long one did real work.
      if (after - before < 0.05) this.#spinMs += after - before;
      left = atMs - after;
    }
  }

  /** Closes every connection; reads what slow consumers were left. */
  async #closeAll(): Promise<{ closed: number; bytes: number }> {
    let closed = 0;
    let bytes = 0;
    const deadline = performance.now() + 2000;
    await Promise.all(this.#slow.map(async (conn) => {
      const buffer = new Uint8Array(64 * 1024);
      try {
        while (performance.now() < deadline) {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const n = await Promise.race([
            conn.read(buffer),
            new Promise<"idle">((resolve) =>
              timer = setTimeout(resolve, 200, "idle")
            ),
          ]);
          clearTimeout(timer);
          if (n === "idle") return;
          if (n === null) {
            closed++;
            return;
          }
          bytes += n;
        }
      } catch {
        closed++;
      }
    }));
    this.#closing = true;
    for (const conn of this.#slow) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
    for (const receiver of this.#receivers) {
      try {
        receiver.conn.close();
      } catch {
        // Already closed.
      }
    }
    await Promise.all(this.#readLoops);
    return { closed, bytes };
  }

  #startProgress(): ReturnType<typeof setInterval> | undefined {
    const onProgress = this.#options.onProgress;
    if (!onProgress) return undefined;
    const interval = this.#options.progressIntervalMs ?? 1000;
    let lastDelivered = 0;
    let lastAt = performance.now();
    return setInterval(() => {
      const now = performance.now();
      const delivered = this.#delivered;
      onProgress({
        phase: this.#phase,
        elapsedSeconds: round((now - this.#clock0) / 1000, 1),
        connected: this.#receivers.length + this.#slow.length,
        linesSent: this.#senders.reduce((sum, s) => sum + s.sent, 0),
        delivered,
        deliveredPerSecond: Math.round(
          perSecond(delivered - lastDelivered, (now - lastAt) / 1000),
        ),
        p99Ms: this.#corrected.summary().p99,
      });
      lastDelivered = delivered;
      lastAt = now;
    }, interval);
  }
}

/** Waits for `promise` at most `ms`; true if it settled in time. */
async function withTimeout(
  promise: Promise<unknown>,
  ms: number,
): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise.then(() => true, () => true),
      new Promise<boolean>((resolve) =>
        timer = setTimeout(resolve, Math.max(0, ms), false)
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function writeAll(conn: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    offset += await conn.write(offset === 0 ? bytes : bytes.subarray(offset));
  }
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** The network counters' growth between two machine samples, if known. */
function networkDelta(
  samples: [SystemCpuSample, SystemCpuSample] | undefined,
): LoadReport["network"] {
  if (!samples) return null;
  const [from, to] = samples;
  if (
    from.tcpRetransmits === null || to.tcpRetransmits === null ||
    from.backlogDrops === null || to.backlogDrops === null
  ) return null;
  return {
    tcpRetransmits: to.tcpRetransmits - from.tcpRetransmits,
    backlogDrops: to.backlogDrops - from.backlogDrops,
  };
}
