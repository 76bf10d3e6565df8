/**
 * `runLoad`: one load run against a line-chat server, phase by phase.
 * **Ramp** (connect the clients at the connect rate, sampling the
 * server's memory as they arrive), **join** (probe until every client is
 * seen in the room), **run** (warm-up, then the measured window), **drain**
 * (wait for lines still in flight) and **close**. Each phase is its own
 * module; this one wires them together and hands what they measured to
 * `buildLoadReport`. Every phase is bounded in time: a run always ends by
 * itself.
 *
 * The clients live in shards (`shard.ts`): with `--workers 1` one, on
 * this thread, as the generator always ran; with `--workers N`, one per
 * worker (`workers.ts`), client `i` in worker `i % N`, so receivers and
 * senders are spread evenly. This thread then only coordinates: it asks
 * each shard for its part of every ramp step, sends the probes through
 * them, posts the window and the send plan (times on the shared run
 * clock), reads their live counts from the shared status board, samples
 * every worker thread's CPU at the window's edges, and merges their
 * tallies, send records and timelines (all exact) before
 * `buildLoadReport`.
 *
 * @module
 */

import { sleep } from "../_async.ts";
import { LatencyHistogram } from "../latency_histogram.ts";
import { perSecond } from "../statistics.ts";
import { DeliveryTally } from "./accounting.ts";
import { RunClock } from "./clock.ts";
import { type JoinRoom, joinRoom } from "./join.ts";
import {
  type LoadControlOptions,
  type LoadOptions,
  type LoadPhase,
  type LoadSettings,
  resolveLoadOptions,
} from "./options.ts";
import { payloadBodies } from "./payload.ts";
import { type RampResult, rampUp } from "./ramp.ts";
import type { RateSpec } from "./rate_schedule.ts";
import {
  buildLoadReport,
  type LatencyDistribution,
  type LoadReport,
} from "./report.ts";
import { mergeSends } from "./senders.ts";
import {
  localShard,
  type ShardConfig,
  type ShardHandle,
  type ShardResult,
} from "./shard.ts";
import { Timeline } from "./timeline.ts";
import { MeasurementWindow, RssTrack } from "./window.ts";
import { StatusBoard, WorkerShard } from "./workers.ts";
import { errorName, round } from "./_util.ts";

/**
 * Runs one load test against a line-chat server and reports what it
 * measured. Always ends by itself: every phase is bounded in time.
 * Throws a `RangeError` at once for settings a run cannot hold.
 *
 * @example
 * ```ts ignore
 * import { runLoad } from "./run.ts";
 *
 * const report = await runLoad({ port: 7687, clients: 100, senders: 10, rate: 100, durationMs: 5000 });
 * console.log(report.accounting.lost, report.latency.corrected.p99);
 * ```
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const payloadLines = options.payloadLines ??
    (options.payloadFile === undefined
      ? undefined
      : payloadBodies(await Deno.readFile(options.payloadFile)));
  const settings = resolveLoadOptions({ ...options, payloadLines });
  return await new LoadRun(settings, options).run();
}

/** One run's parts, and the phases that drive them. */
class LoadRun {
  readonly #settings: LoadSettings;
  readonly #control: LoadControlOptions;
  readonly #clock = new RunClock();
  readonly #startedAt = new Date();
  readonly #rss: RssTrack;
  readonly #window: MeasurementWindow;
  readonly #rate: RateSpec;
  #shards: ShardHandle[] = [];
  #board: StatusBoard | undefined;
  #phase: LoadPhase = "ramp";

  constructor(settings: LoadSettings, control: LoadControlOptions) {
    this.#settings = settings;
    this.#control = control;
    const { config } = settings;
    this.#rate = config.rateRamp ??
      { from: config.rate, to: config.rate, overMs: 0, steps: 0 };
    this.#rss = new RssTrack(settings.server);
    this.#window = new MeasurementWindow(
      this.#clock,
      settings.server,
      () => this.#sum("spinMs"),
      this.#rss,
      () =>
        this.#board
          ? this.#shards.map((shard) => ({
            tid: shard.tid,
            spinMs: shard.status().spinMs,
          }))
          : [],
    );
  }

  async run(): Promise<LoadReport> {
    let progress: ReturnType<typeof setInterval> | undefined;
    let ramp: RampResult | undefined;
    let joinMs = 0;
    let failure: string | null = null;
    try {
      await this.#startShards();
      progress = this.#startProgress();
      ramp = await this.#ramp();
      failure = ramp.failure;
      if (!failure) {
        const joinStart = performance.now();
        failure = await this.#joinRoom();
        joinMs = performance.now() - joinStart;
        // Not part of the ramp's fit: the probes' fan-out has allocated.
        await this.#rss.afterJoin();
      }
      if (!failure) await this.#sendAndDrain();
    } catch (error) {
      failure = `generator error: ${errorName(error)}`;
    }
    this.#setPhase("close");
    let results: ShardResult[] = [];
    try {
      results = await Promise.all(this.#shards.map((shard) => shard.finish()));
    } catch (error) {
      failure ??= `generator error: ${errorName(error)}`;
    }
    for (const shard of this.#shards) shard.close();
    clearInterval(progress);
    return await this.#report(failure, ramp, joinMs, results);
  }

  /** The shards: this thread's only one, or one per worker. */
  async #startShards(): Promise<void> {
    const { config } = this.#settings;
    const count = config.workers;
    const base = (index: number): ShardConfig => ({
      index,
      count,
      originEpochMs: this.#clock.originEpochMs,
      tag: config.tag,
      size: config.size,
      bodies: this.#settings.bodies,
      clients: config.clients,
      senders: config.senders,
      targets: this.#settings.targets,
      caCerts: this.#settings.caCerts,
      connectRate: config.connectRate,
      rate: this.#rate,
      rampStartMs: config.warmupMs,
      lines: config.lines,
      inFlight: config.window,
      spinMs: config.spinMs,
      readBufferBytes: this.#settings.readBufferBytes,
      maxLineBytes: this.#settings.maxLineBytes,
    });
    if (count === 1) {
      this.#shards = [localShard(base(0), () => this.#phase)];
      return;
    }
    const board = new StatusBoard(count, config.senders);
    this.#board = board;
    const started = await Promise.allSettled(
      Array.from(
        { length: count },
        (_, i) => WorkerShard.start(base(i), board),
      ),
    );
    this.#shards = started.flatMap((s) =>
      s.status === "fulfilled" ? [s.value] : []
    );
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  #setPhase(phase: LoadPhase): void {
    this.#phase = phase;
    if (this.#board) this.#board.phase = phase;
  }

  /** A live count summed over the shards. */
  #sum(
    field:
      | "connected"
      | "receivers"
      | "joined"
      | "gone"
      | "delivered"
      | "linesSent"
      | "spinMs",
  ): number {
    let total = 0;
    for (const shard of this.#shards) total += shard.status()[field];
    return total;
  }

  /** Connects everyone; the server's RSS before, and after each step. */
  async #ramp(): Promise<RampResult> {
    const { config, server } = this.#settings;
    this.#rss.before = await this.#rss.atClients(0);
    const total = config.clients + config.slowConsumers;
    const ramp = await rampUp({
      total,
      steps: this.#settings.rampSteps,
      timeoutMs: this.#settings.rampTimeoutMs,
      connect: async (from, to, deadlineMs) => {
        const step = {
          from,
          to,
          startUs: this.#clock.nowUs(),
          deadlineUs: this.#clock.toUs(deadlineMs),
        };
        const results = await Promise.all(
          this.#shards.map((shard) => shard.connect(step)),
        );
        const times = new LatencyHistogram();
        const errors: Record<string, number> = {};
        for (const result of results) {
          const part = LatencyHistogram.fromTransfer(result.times);
          times.add(part);
          part.destroy();
          for (const [name, n] of Object.entries(result.errors)) {
            errors[name] = (errors[name] ?? 0) + n;
          }
        }
        const merged = {
          connected: results.reduce((n, r) => n + r.connected, 0),
          errors,
          timedOut: results.some((r) => r.timedOut),
          times: times.transfer(),
        };
        times.destroy();
        return merged;
      },
      afterStep: server ? (n) => this.#rss.atClients(n) : undefined,
      settleMs: this.#settings.rssSettleMs,
      signal: this.#control.signal,
    });
    if (
      ramp.failure && ramp.connected === 0 &&
      Object.keys(ramp.errors).every((e) => e === "ConnectionRefused")
    ) {
      ramp.failure = `${config.target} refused the connection`;
    } else if (
      ramp.failure && ramp.connected === 0 &&
      Object.keys(ramp.errors).length === 1
    ) {
      // Nobody got in, all for one reason (an untrusted certificate, say):
      // that reason is the failure.
      ramp.failure = `${config.target}: ${Object.keys(ramp.errors)[0]}`;
    }
    const closed = this.#sum("gone");
    if (!ramp.failure && closed > 0) {
      ramp.failure = `the server closed ${closed} clients during the ramp`;
    }
    return ramp;
  }

  /** Probes, through every shard, until everyone is in the room. */
  #joinRoom(): Promise<string | null> {
    this.#setPhase("join");
    const shards = this.#shards;
    const room: JoinRoom = {
      clients: this.#settings.config.clients,
      joined: () => this.#sum("joined"),
      gone: () => this.#sum("gone"),
      lastProbeEpochMs: () =>
        Math.max(...shards.map((s) => s.status().lastProbeEpochMs)),
      probe: async (clients) => {
        await Promise.all(shards.map((s) => s.probe(clients)));
      },
      nudge: async (max) => {
        const share = Math.max(1, Math.ceil(max / shards.length));
        await Promise.all(shards.map((s) => s.nudge(share)));
      },
    };
    return joinRoom({ room, timeoutMs: this.#settings.joinTimeoutMs });
  }

  /** Warm-up, the measured window, and the drain. */
  async #sendAndDrain(): Promise<void> {
    const { config } = this.#settings;
    const window = this.#window;
    this.#setPhase(config.warmupMs > 0 ? "warmup" : "run");
    const startMs = performance.now();
    const windowStartMs = startMs + config.warmupMs;
    const endMs = windowStartMs + config.durationMs;
    window.schedule(windowStartMs, endMs);
    await Promise.all(
      this.#shards.map((s) => s.setWindow(window.startUs, window.endUs)),
    );
    const plan = {
      startUs: this.#clock.toUs(startMs),
      endUs: this.#clock.toUs(endMs),
      others: Math.max(0, this.#receivers() - 1),
    };
    const sending = Promise.all(this.#shards.map((s) => s.send(plan)));
    const opened = window.open(windowStartMs, sending, () => {
      this.#setPhase("run");
    });
    await sending;
    await opened;
    const sentUs = this.#clock.nowUs();
    const stoppedEarly = sentUs < window.endUs;
    if (!stoppedEarly) await window.close();
    this.#setPhase("drain");
    const drainEnd = performance.now() + config.drainMs;
    while (
      this.#sum("delivered") < this.#expected() &&
      performance.now() < drainEnd && this.#sum("gone") < this.#receivers()
    ) {
      await sleep(5);
    }
    if (stoppedEarly) {
      // A line limit ended sending early: the window is what was
      // measured, up to the last delivery, and the CPU samples span the
      // same (not the instant it took to send the lines).
      window.shrinkTo(Math.max(sentUs, this.#lastDeliveryUs()));
      await window.close();
    }
  }

  /** Receivers connected, in every shard. */
  #receivers(): number {
    return this.#sum("receivers");
  }

  /** The last delivery so far, run-clock µs. */
  #lastDeliveryUs(): number {
    return Math.max(0, ...this.#shards.map((s) => s.status().lastDeliveryUs));
  }

  /** Deliveries a correct server makes for the lines sent so far. */
  #expected(): number {
    return this.#sum("linesSent") * Math.max(0, this.#receivers() - 1);
  }

  async #report(
    failure: string | null,
    ramp: RampResult | undefined,
    joinMs: number,
    results: ShardResult[],
  ): Promise<LoadReport> {
    const { config, server } = this.#settings;
    const window = this.#window;
    const tally = new DeliveryTally(config.senders, { window });
    for (const result of results) tally.mergeTransfer(result.tally);
    const timeline = tally.timeline ?? new Timeline(window);
    const send = mergeSends(results.map((r) => r.send), timeline);
    const slow = { count: 0, closed: 0, bytes: 0 };
    const disconnects: Record<string, number> = {};
    for (const result of results) {
      slow.count += result.slow.count;
      slow.closed += result.slow.closed;
      slow.bytes += result.slow.bytes;
      for (const [phase, n] of Object.entries(result.disconnects)) {
        disconnects[phase] = (disconnects[phase] ?? 0) + n;
      }
    }
    const receivers = results.reduce((n, r) => n + r.receivers, 0);
    const disconnectTotal = Object.values(disconnects).reduce(
      (a, b) => a + b,
      0,
    );
    if (this.#control.hdrOut) {
      await Deno.writeTextFile(
        this.#control.hdrOut,
        timeline.hdrLog(
          this.#clock.originEpochMs + window.startUs / 1000,
          `linechat-load ${config.target}: corrected latency (µs) per second of the window`,
        ),
      );
    }
    const distribution: LatencyDistribution | undefined =
      this.#control.latencyDistribution
        ? {
          percentiles: [50, 75, 90, 99, 99.9, 99.99, 99.999, 100].map((
            percentile,
          ) => ({
            percentile,
            ms: round(tally.corrected.percentileUs(percentile) / 1000, 3),
          })),
          spectrum: tally.corrected.percentileSpectrum(),
          histogram: tally.corrected.encode(),
        }
        : undefined;
    const times = ramp?.times ?? new LatencyHistogram();
    return buildLoadReport({
      startedAt: this.#startedAt.toISOString(),
      config,
      limits: this.#settings,
      cores: navigator.hardwareConcurrency,
      failure,
      connect: {
        attempted: config.clients + config.slowConsumers,
        connected: receivers + slow.count,
        failed: ramp?.failed ?? 0,
        errors: ramp?.errors ?? {},
        timeMs: times.summary(),
        seconds: round(ramp?.seconds ?? 0, 3),
        rampSeconds: round(ramp?.rampSeconds ?? 0, 3),
        joinMs: round(joinMs, 1),
      },
      disconnects: { total: disconnectTotal, byPhase: disconnects },
      receivers,
      tally: tally.summary(),
      send,
      window: {
        startUs: window.startUs,
        endUs: window.endUs,
        samples: window.samples,
      },
      slowConsumers: {
        count: slow.count,
        closedByServer: slow.closed,
        bytesPending: slow.bytes,
      },
      server: server
        ? {
          pid: server.pid,
          alive: await server.alive(),
          rssBeforeBytes: this.#rss.before,
          rssConnectedBytes: this.#rss.connected,
          rssPeakBytes: this.#rss.peak,
          rssSamples: this.#rss.samples,
        }
        : null,
      timeline: timeline.seconds(),
      latencyDistribution: distribution,
    });
  }

  #startProgress(): ReturnType<typeof setInterval> | undefined {
    const onProgress = this.#control.onProgress;
    if (!onProgress) return undefined;
    let lastDelivered = 0;
    let lastAt = performance.now();
    return setInterval(() => {
      const now = performance.now();
      const delivered = this.#sum("delivered");
      onProgress({
        phase: this.#phase,
        elapsedSeconds: round((now - this.#clock.originMs) / 1000, 1),
        connected: this.#sum("connected"),
        linesSent: this.#sum("linesSent"),
        delivered,
        deliveredPerSecond: Math.round(
          perSecond(delivered - lastDelivered, (now - lastAt) / 1000),
        ),
        p99Ms: Math.max(0, ...this.#shards.map((s) => s.p99Ms())),
      });
      lastDelivered = delivered;
      lastAt = now;
    }, this.#settings.progressIntervalMs);
  }
}
