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
 * Workers (a later `--workers N`) would slot in here: each worker would
 * own a {@linkcode ReceiverSet} and a {@linkcode SenderSet} for its share of
 * the connections, on a {@linkcode RunClock} rebuilt from the same epoch
 * origin, with the window bounds and phase posted to it; this thread would
 * merge their `DeliveryTally`s and send histograms (both exact) before
 * `buildLoadReport`, and sum the join counts. The closed loop's per-sender
 * delivery counts would then come from a shared buffer, one row per
 * worker.
 *
 * @module
 */

import { sleep } from "../_async.ts";
import { LatencyHistogram } from "../latency_histogram.ts";
import { perSecond } from "../statistics.ts";
import { RunClock } from "./clock.ts";
import { JoinDetector, joinRoom } from "./join.ts";
import {
  type LoadControlOptions,
  type LoadOptions,
  type LoadPhase,
  type LoadSettings,
  resolveLoadOptions,
} from "./options.ts";
import { PayloadEncoder } from "./payload.ts";
import { type RampResult, rampUp } from "./ramp.ts";
import { ReceiverSet, SlowConsumers } from "./receivers.ts";
import { buildLoadReport, type LoadReport } from "./report.ts";
import { SenderSet } from "./senders.ts";
import { MeasurementWindow, RssTrack } from "./window.ts";
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
export function runLoad(options: LoadOptions): Promise<LoadReport> {
  return new LoadRun(resolveLoadOptions(options), options).run();
}

/** One run's parts, and the phases that drive them. */
class LoadRun {
  readonly #settings: LoadSettings;
  readonly #control: LoadControlOptions;
  readonly #clock = new RunClock();
  readonly #join: JoinDetector;
  readonly #receivers: ReceiverSet;
  readonly #senders: SenderSet;
  readonly #slow = new SlowConsumers();
  readonly #rss: RssTrack;
  readonly #window: MeasurementWindow;
  #phase: LoadPhase = "ramp";

  constructor(settings: LoadSettings, control: LoadControlOptions) {
    this.#settings = settings;
    this.#control = control;
    const { config } = settings;
    this.#join = new JoinDetector(config.tag);
    this.#rss = new RssTrack(settings.server);
    this.#window = new MeasurementWindow(
      this.#clock,
      settings.server,
      () => this.#senders.spinMs,
      this.#rss,
    );
    this.#receivers = new ReceiverSet({
      tag: config.tag,
      size: config.size,
      senders: config.senders,
      clock: this.#clock,
      window: this.#window,
      join: this.#join,
      phase: () => this.#phase,
      readBufferBytes: settings.readBufferBytes,
      maxLineBytes: settings.maxLineBytes,
      onRead: () => this.#senders.wake(),
    });
    const tally = this.#receivers.tally;
    this.#senders = new SenderSet({
      encoder: new PayloadEncoder(config.tag, config.size),
      clock: this.#clock,
      window: this.#window,
      rate: config.rate,
      lines: config.lines,
      inFlight: config.window,
      spinMs: config.spinMs,
      delivered: (index) => tally.bySender[index],
      signal: control.signal,
    });
  }

  async run(): Promise<LoadReport> {
    const progress = this.#startProgress();
    let ramp: RampResult | undefined;
    let joinMs = 0;
    let failure: string | null = null;
    try {
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
    this.#phase = "close";
    const slow = await this.#slow.collect();
    this.#slow.close();
    await this.#receivers.close();
    clearInterval(progress);
    return await this.#report(failure, ramp, joinMs, slow);
  }

  /** Connects everyone; the server's RSS before, and after each step. */
  async #ramp() {
    const { config, server } = this.#settings;
    this.#rss.before = await this.#rss.atClients(0);
    const ramp = await rampUp({
      targets: this.#settings.targets,
      total: config.clients + config.slowConsumers,
      connectRate: config.connectRate,
      steps: this.#settings.rampSteps,
      timeoutMs: this.#settings.rampTimeoutMs,
      onConnect: (conn, i) => this.#take(conn, i),
      afterStep: server ? (n) => this.#rss.atClients(n) : undefined,
      settleMs: this.#settings.rssSettleMs,
      signal: this.#control.signal,
    });
    const closed = this.#receivers.disconnectTotal;
    if (!ramp.failure && closed > 0) {
      ramp.failure = `the server closed ${closed} clients during the ramp`;
    }
    return ramp;
  }

  /** Client `i`: a receiver (the first `senders` of them send too), or slow. */
  #take(conn: Deno.TcpConn, i: number): void {
    const { config } = this.#settings;
    if (i >= config.clients) return this.#slow.add(conn);
    const receiver = this.#receivers.add(conn);
    if (receiver.index < config.senders) {
      this.#senders.add(receiver.index, conn);
    }
  }

  /** Probes until everyone is in the room. */
  #joinRoom(): Promise<string | null> {
    this.#phase = "join";
    return joinRoom({
      receivers: this.#receivers.receivers,
      detector: this.#join,
      timeoutMs: this.#settings.joinTimeoutMs,
    });
  }

  /** Warm-up, the measured window, and the drain. */
  async #sendAndDrain(): Promise<void> {
    const { config } = this.#settings;
    const window = this.#window;
    this.#phase = config.warmupMs > 0 ? "warmup" : "run";
    const startMs = performance.now();
    const windowStartMs = startMs + config.warmupMs;
    const endMs = windowStartMs + config.durationMs;
    window.schedule(windowStartMs, endMs);
    const sending = config.rate > 0
      ? this.#senders.openLoop(startMs, endMs)
      : this.#senders.closedLoop(endMs, this.#receivers.receivers.length - 1);
    const opened = window.open(windowStartMs, sending, () => {
      this.#phase = "run";
    });
    await sending;
    await opened;
    const sentUs = this.#clock.nowUs();
    const stoppedEarly = sentUs < window.endUs;
    if (!stoppedEarly) await window.close();
    this.#phase = "drain";
    const drainEnd = performance.now() + config.drainMs;
    while (
      this.#receivers.tally.delivered < this.#expected() &&
      performance.now() < drainEnd && !this.#receivers.allGone
    ) {
      await sleep(5);
    }
    if (stoppedEarly) {
      // A line limit ended sending early: the window is what was
      // measured, up to the last delivery, and the CPU samples span the
      // same (not the instant it took to send the lines).
      window.shrinkTo(
        Math.max(sentUs, this.#receivers.tally.lastDeliveryUs),
      );
      await window.close();
    }
  }

  /** Deliveries a correct server makes for the lines sent so far. */
  #expected(): number {
    const others = this.#receivers.receivers.length - 1;
    return this.#senders.linesSent * Math.max(0, others);
  }

  async #report(
    failure: string | null,
    ramp: RampResult | undefined,
    joinMs: number,
    slow: { closed: number; bytes: number },
  ): Promise<LoadReport> {
    const { config, server } = this.#settings;
    const receivers = this.#receivers;
    return buildLoadReport({
      config,
      limits: this.#settings,
      failure,
      connect: {
        attempted: config.clients + config.slowConsumers,
        connected: receivers.receivers.length + this.#slow.count,
        failed: ramp?.failed ?? 0,
        errors: ramp?.errors ?? {},
        timeMs: (ramp?.times ?? new LatencyHistogram()).summary(),
        rampSeconds: round(ramp?.seconds ?? 0, 3),
        joinMs: round(joinMs, 1),
      },
      disconnects: {
        total: receivers.disconnectTotal,
        byPhase: { ...receivers.disconnects },
      },
      receivers: receivers.receivers.length,
      tally: receivers.tally.summary(),
      send: this.#senders.summary(),
      window: {
        startUs: this.#window.startUs,
        endUs: this.#window.endUs,
        samples: this.#window.samples,
      },
      slowConsumers: {
        count: this.#slow.count,
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
    });
  }

  #startProgress(): ReturnType<typeof setInterval> | undefined {
    const onProgress = this.#control.onProgress;
    if (!onProgress) return undefined;
    let lastDelivered = 0;
    let lastAt = performance.now();
    return setInterval(() => {
      const now = performance.now();
      const delivered = this.#receivers.tally.delivered;
      onProgress({
        phase: this.#phase,
        elapsedSeconds: round((now - this.#clock.originMs) / 1000, 1),
        connected: this.#receivers.receivers.length + this.#slow.count,
        linesSent: this.#senders.linesSent,
        delivered,
        deliveredPerSecond: Math.round(
          perSecond(delivered - lastDelivered, (now - lastAt) / 1000),
        ),
        p99Ms: this.#receivers.tally.corrected.summary().p99,
      });
      lastDelivered = delivered;
      lastAt = now;
    }, this.#settings.progressIntervalMs);
  }
}
