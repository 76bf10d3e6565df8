/**
 * One thread's share of a run: the clients numbered `i` with
 * `i % count === index`, their receivers, senders and slow consumers, and
 * everything they counted. With `--workers 1` the only shard runs on the
 * main thread; with `--workers N` each worker runs one (see
 * `_shard_worker.ts`), and `run.ts` drives them all through the same
 * {@linkcode ShardHandle} and merges their {@linkcode ShardResult}s.
 *
 * Everything a shard is told or tells is plain data, and every time it
 * exchanges is on the run's clock (µs), which every thread rebuilds from
 * the same epoch origin.
 *
 * @module
 */

import { RunClock } from "./clock.ts";
import type { LoadTarget } from "./connection.ts";
import type { TallyTransfer } from "./accounting.ts";
import { JoinDetector, localRoom } from "./join.ts";
import type { LoadPhase } from "./options.ts";
import { PayloadEncoder } from "./payload.ts";
import { connectRange, MAX_CONNECTING, type StepResult } from "./ramp.ts";
import type { RateSpec } from "./rate_schedule.ts";
import { ReceiverSet, SlowConsumers } from "./receivers.ts";
import { SenderSet, type SendTransfer } from "./senders.ts";

/** What a shard needs to know of the run: plain data, posted to workers. */
export interface ShardConfig {
  /** Its number, from 0. */
  index: number;
  /** Shards in the run. */
  count: number;
  /** The run clock's origin, epoch ms. */
  originEpochMs: number;
  tag: string;
  size: number;
  /** With `--payload-file`: the bodies lines carry. */
  bodies: Uint8Array[] | undefined;
  /** Receiving clients in the whole run. */
  clients: number;
  /** Senders in the whole run (clients 0 to senders − 1). */
  senders: number;
  /** Where client `i` connects: `targets[i % targets.length]`. */
  targets: LoadTarget[];
  /** Certificates to trust for TLS and WSS targets (PEM). */
  caCerts: string[];
  connectRate: number;
  rate: RateSpec;
  /** With a ramp: how long after sending starts it does, ms. */
  rampStartMs: number;
  lines: number | null;
  /** Closed loop: lines in flight per sender. */
  inFlight: number;
  spinMs: number;
  readBufferBytes: number;
  maxLineBytes: number;
}

/** One ramp step, as a shard is asked to make it. */
export interface ConnectStep {
  from: number;
  to: number;
  /** When the step's schedule starts, run-clock µs. */
  startUs: number;
  /** When it gives up, run-clock µs. */
  deadlineUs: number;
}

/** What to send: the open loop (`rate > 0`) or the closed loop. */
export interface SendPlan {
  /** When sending starts, run-clock µs. */
  startUs: number;
  /** When it stops, run-clock µs. */
  endUs: number;
  /** Receivers besides a sender itself, in the whole run. */
  others: number;
}

/** A shard's live counts (read by the run while it waits for them). */
export interface ShardStatus {
  /** Connections it holds (receivers and slow consumers). */
  connected: number;
  /** Its receivers. */
  receivers: number;
  /** Receivers that have heard a probe from someone else. */
  joined: number;
  /** Receivers the server closed. */
  gone: number;
  /** Deliveries so far. */
  delivered: number;
  /** Lines its senders sent so far. */
  linesSent: number;
  /** When its last probe arrived, epoch ms. */
  lastProbeEpochMs: number;
  /** Milliseconds its senders spent polling for send times. */
  spinMs: number;
  /** Its last delivery so far, run-clock µs (0: none). */
  lastDeliveryUs: number;
}

/** What a shard measured, as plain data. */
export interface ShardResult {
  /** Its receivers. */
  receivers: number;
  /** Its slow consumers: how many, how many the server closed, bytes. */
  slow: { count: number; closed: number; bytes: number };
  /** Receivers the server closed, by phase. */
  disconnects: Record<string, number>;
  /** What its receivers counted. */
  tally: TallyTransfer;
  /** What its senders sent. */
  send: SendTransfer;
}

/** Where a shard's per-sender counts live, and how it reads everyone's. */
export interface ShardSharing {
  /** Its own row of per-sender delivery counts. */
  bySender?: Float64Array;
  /** Deliveries of sender `i` in the whole run (closed loop). */
  delivered?: (sender: number) => number;
  /** The phase the run is in. */
  phase: () => LoadPhase;
  /** Resolves when deliveries were counted in another worker (or later). */
  deliveries?: () => Promise<void>;
  /** Called after each read (to tell the other workers). */
  onRead?: () => void;
}

/**
 * One thread's clients and what they counted.
 *
 * @example
 * ```ts ignore
 * import { LoadShard } from "./shard.ts";
 * const shard = new LoadShard(config, { phase: () => "run" });
 * await shard.connect({ from: 0, to: 10, startUs: 0, deadlineUs: 5e6 });
 * const result = await shard.finish();
 * ```
 */
export class LoadShard {
  /** The run's clock, rebuilt in this thread. */
  readonly clock: RunClock;
  /** Its receiving clients. */
  readonly receivers: ReceiverSet;
  /** Its senders. */
  readonly senders: SenderSet;
  /** Its slow consumers. */
  readonly slow: SlowConsumers = new SlowConsumers();
  /** Recognises join probes. */
  readonly join: JoinDetector;
  /** The window bounds its receivers and senders compare times with. */
  readonly window = { startUs: Infinity, endUs: Infinity };
  readonly #config: ShardConfig;

  /** A shard of the run `config` describes. */
  constructor(config: ShardConfig, sharing: ShardSharing) {
    this.#config = config;
    this.clock = RunClock.fromEpoch(config.originEpochMs);
    this.join = new JoinDetector(config.tag);
    this.receivers = new ReceiverSet({
      tag: config.tag,
      size: config.size,
      bodies: config.bodies,
      senders: config.senders,
      clock: this.clock,
      window: this.window,
      join: this.join,
      phase: sharing.phase,
      readBufferBytes: config.readBufferBytes,
      maxLineBytes: config.maxLineBytes,
      bySender: sharing.bySender,
      onRead: sharing.onRead
        ? () => {
          this.senders.wake();
          sharing.onRead!();
        }
        : () => this.senders.wake(),
    });
    const tally = this.receivers.tally;
    this.senders = new SenderSet({
      encoder: new PayloadEncoder(config.tag, config.size, config.bodies),
      clock: this.clock,
      window: this.window,
      rate: config.rate.from > 0 ? config.rate : 0,
      rampStartMs: config.rampStartMs,
      senderCount: config.count > 1 ? config.senders : undefined,
      lines: config.lines,
      inFlight: config.inFlight,
      spinMs: config.spinMs,
      delivered: sharing.delivered ?? ((index) => tally.bySender[index]),
      deliveries: sharing.deliveries,
    });
  }

  /** Its live counts. */
  status(): ShardStatus {
    return {
      connected: this.receivers.receivers.length + this.slow.count,
      receivers: this.receivers.receivers.length,
      joined: this.join.joinedCount,
      gone: this.receivers.gone,
      delivered: this.receivers.tally.delivered,
      linesSent: this.senders.linesSent,
      lastProbeEpochMs: this.join.lastProbeEpochMs,
      spinMs: this.senders.spinMs,
      lastDeliveryUs: this.receivers.tally.lastDeliveryUs,
    };
  }

  /** The corrected p99 so far, ms (a histogram scan: once a second, not more). */
  p99Ms(): number {
    return this.receivers.tally.corrected.summary().p99;
  }

  /** Connects its share of one ramp step. */
  connect(step: ConnectStep): Promise<StepResult> {
    const config = this.#config;
    return connectRange({
      targets: config.targets,
      caCerts: config.caCerts,
      from: step.from,
      to: step.to,
      connectRate: config.connectRate,
      startMs: this.clock.fromUs(step.startUs),
      deadlineMs: this.clock.fromUs(step.deadlineUs),
      stride: config.count,
      offset: config.index,
      silentFrom: config.clients,
      maxConnecting: Math.max(1, Math.floor(MAX_CONNECTING / config.count)),
      take: (conn, i) => this.#take(conn, i),
    });
  }

  /** Client `i`: a receiver (the first `senders` send too), or slow. */
  #take(conn: Parameters<ReceiverSet["add"]>[0], i: number): void {
    const config = this.#config;
    if (i >= config.clients) {
      if (conn.kind === "stream") this.slow.add(conn);
      return;
    }
    this.receivers.add(conn, i);
    if (i < config.senders) this.senders.add(i, conn);
  }

  /** Sends a probe from each of these clients it holds. */
  probe(clients: readonly number[]): Promise<void> {
    return this.#room().probe(clients);
  }

  /** Sends a probe from at most `max` of its clients not yet joined. */
  nudge(max: number): Promise<void> {
    return this.#room().nudge(max);
  }

  #room() {
    return localRoom(this.receivers.receivers, this.join);
  }

  /** Sets the measured window, run-clock µs. */
  setWindow(startUs: number, endUs: number): void {
    this.window.startUs = startUs;
    this.window.endUs = endUs;
  }

  /** Sends until the plan's end (or the line limit); resolves when done. */
  send(plan: SendPlan): Promise<void> {
    const endMs = this.clock.fromUs(plan.endUs);
    return this.#config.rate.from > 0
      ? this.senders.openLoop(this.clock.fromUs(plan.startUs), endMs)
      : this.senders.closedLoop(endMs, plan.others);
  }

  /**
   * Reads what waited for the slow consumers, closes every connection,
   * and returns what it measured.
   */
  async finish(): Promise<ShardResult> {
    const slow = await this.slow.collect();
    this.slow.close();
    await this.receivers.close();
    return {
      receivers: this.receivers.receivers.length,
      slow: { count: this.slow.count, ...slow },
      disconnects: { ...this.receivers.disconnects },
      tally: this.receivers.tally.transfer(),
      send: this.senders.transfer(),
    };
  }
}

/**
 * A shard as the run drives it: in this thread, or in a worker (then
 * `status` reads a shared buffer and every call is a message).
 */
export interface ShardHandle {
  /** The OS thread it runs on, for its CPU time (undefined: this one). */
  readonly tid: number | undefined;
  /** Its live counts. */
  status(): ShardStatus;
  /** Its corrected p99 so far, ms (for the progress line). */
  p99Ms(): number;
  connect(step: ConnectStep): Promise<StepResult>;
  probe(clients: readonly number[]): Promise<void>;
  nudge(max: number): Promise<void>;
  setWindow(startUs: number, endUs: number): Promise<void>;
  send(plan: SendPlan): Promise<void>;
  finish(): Promise<ShardResult>;
  /** Ends it (a worker is terminated). */
  close(): void;
}

/**
 * The run's only shard, in this thread (`--workers 1`).
 *
 * @example
 * ```ts ignore
 * import { localShard } from "./shard.ts";
 * const handle = localShard(config, () => phase);
 * ```
 */
export function localShard(
  config: ShardConfig,
  phase: () => LoadPhase,
): ShardHandle & { shard: LoadShard } {
  const shard = new LoadShard(config, { phase });
  return {
    shard,
    tid: undefined,
    status: () => shard.status(),
    p99Ms: () => shard.p99Ms(),
    connect: (step) => shard.connect(step),
    probe: (clients) => shard.probe(clients),
    nudge: (max) => shard.nudge(max),
    setWindow: (startUs, endUs) =>
      Promise.resolve(shard.setWindow(startUs, endUs)),
    send: (plan) => shard.send(plan),
    finish: () => shard.finish(),
    close: () => {},
  };
}
