/**
 * The connection ramp: clients connect at the connect rate, in steps
 * (with a pause and a reading of the server's memory after each, when it
 * is measured), spread round-robin over the targets. Every connect is
 * timed; the first failure stops new connects, failures are counted by
 * error, and the ramp as a whole is bounded in time. Its time is counted
 * without the pauses.
 *
 * {@linkcode rampUp} drives the steps; {@linkcode connectRange} makes
 * one step's connections, of all clients or (in a worker) of its share of
 * them, paced so that all shares together keep the connect rate.
 *
 * @module
 */

import {
  type HistogramTransfer,
  LatencyHistogram,
} from "../latency_histogram.ts";
import { sleep } from "../_async.ts";
import {
  connectClient,
  type ConnectClientOptions,
  connectSilent,
  type LoadConnection,
  type LoadTarget,
} from "./connection.ts";
import { errorName, settlesWithin, sleepUntil } from "./_util.ts";

/**
 * Most connections in progress at once (shared by the workers).
 *
 * @example
 * ```ts
 * import { MAX_CONNECTING } from "./ramp.ts";
 * console.log(MAX_CONNECTING); // 256
 * ```
 */
export const MAX_CONNECTING = 256;

/** What one step's connects did. */
export interface StepResult {
  /** Connections made. */
  connected: number;
  /** Failed connects by error. */
  errors: Record<string, number>;
  /** Whether the ramp's time ran out during the step. */
  timedOut: boolean;
  /** Time for each `connect()` to complete, µs. */
  times: HistogramTransfer;
}

/** Options for {@linkcode rampUp}. */
export interface RampOptions {
  /** Connections to make in all. */
  total: number;
  /** Steps the ramp is made in (each paced afresh). */
  steps: number;
  /** How long the whole ramp may take, ms. */
  timeoutMs: number;
  /**
   * Makes clients `from` to `to` (exclusive) connect, by `deadlineMs`
   * (`performance.now()`), e.g. with {@linkcode connectRange}, or by
   * asking every worker to.
   */
  connect: (
    from: number,
    to: number,
    deadlineMs: number,
  ) => Promise<StepResult>;
  /**
   * After each step that went well: waits `settleMs`, then called with
   * the connections made so far (to sample the server's RSS).
   *
   * @default {undefined}
   */
  afterStep?: (connected: number) => Promise<unknown>;
  /**
   * The pause before `afterStep`, ms.
   *
   * @default {250}
   */
  settleMs?: number;
  /**
   * Stops the ramp (it fails as "aborted").
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/** What the ramp did. */
export interface RampResult {
  /** Time for each `connect()` to complete, µs. */
  times: LatencyHistogram;
  /** Connections made. */
  connected: number;
  /** Connects that failed. */
  failed: number;
  /** Failed connects by error. */
  errors: Record<string, number>;
  /** Time spent connecting, s: the pauses for memory samples left out. */
  seconds: number;
  /** The whole ramp's time, pauses and memory samples included, s. */
  rampSeconds: number;
  /** Why it failed (connects failed, it timed out, it was aborted). */
  failure: string | null;
}

/**
 * Connects `total` clients in `steps`, pausing after each for
 * `afterStep`.
 *
 * @example
 * ```ts
 * import { connectRange, rampUp } from "./ramp.ts";
 * import type { LoadConnection } from "./connection.ts";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const { port } = listener.addr as Deno.NetAddr;
 * const target = { kind: "tcp" as const, hostname: "127.0.0.1", port, path: "" };
 * const conns: LoadConnection[] = [];
 * const ramp = await rampUp({
 *   total: 3, steps: 1, timeoutMs: 5000,
 *   connect: (from, to, deadlineMs) => connectRange({
 *     targets: [target], from, to, connectRate: 0, deadlineMs,
 *     take: (conn) => conns.push(conn),
 *   }),
 * });
 * console.log(ramp.connected, ramp.failure); // 3 null
 * conns.forEach((conn) => conn.close());
 * listener.close();
 * ```
 */
export async function rampUp(options: RampOptions): Promise<RampResult> {
  const { total, steps } = options;
  const times = new LatencyHistogram();
  const errors: Record<string, number> = {};
  let failed = 0;
  let connected = 0;
  let connectingMs = 0;
  let failure: string | null = null;
  const start = performance.now();
  const deadline = start + options.timeoutMs;
  let next = 0;
  for (let step = 1; step <= steps && !failure; step++) {
    const stepEnd = Math.round((total * step) / steps);
    const stepStart = performance.now();
    const result = await options.connect(next, stepEnd, deadline);
    connectingMs += performance.now() - stepStart;
    next = stepEnd;
    connected += result.connected;
    const stepTimes = LatencyHistogram.fromTransfer(result.times);
    times.add(stepTimes);
    stepTimes.destroy();
    for (const [message, count] of Object.entries(result.errors)) {
      errors[message] = (errors[message] ?? 0) + count;
      failed += count;
    }
    if (failed > 0) {
      failure = `${failed} connections failed (${
        Object.keys(errors).join(", ")
      }); ${connected} of ${total} connected`;
    } else if (result.timedOut) {
      failure = "the ramp timed out";
    }
    if (options.afterStep && !failure) {
      await sleep(options.settleMs ?? 250);
      await options.afterStep(connected);
    }
    if (options.signal?.aborted) failure = "aborted";
  }
  return {
    times,
    connected,
    failed,
    errors,
    seconds: connectingMs / 1000,
    rampSeconds: (performance.now() - start) / 1000,
    failure,
  };
}

/** Options for {@linkcode connectRange}. */
export interface ConnectRangeOptions extends ConnectClientOptions {
  /** Where client `i` connects: `targets[i % targets.length]`. */
  targets: readonly LoadTarget[];
  /** The first client of the step. */
  from: number;
  /** One past its last client. */
  to: number;
  /**
   * New connections per second, all workers together; 0: as fast as
   * possible.
   */
  connectRate: number;
  /** When the step's schedule starts (`performance.now()`), ms. */
  startMs?: number;
  /** Give up on the step at this time (`performance.now()`), ms. */
  deadlineMs: number;
  /**
   * Connect only the clients `i` with `i % stride === offset` (a worker's
   * share).
   *
   * @default {1 and 0: every client}
   */
  stride?: number;
  /** @default {0} */
  offset?: number;
  /**
   * Clients numbered from `silentFrom` on never read (slow consumers):
   * they connect with {@linkcode connectSilent}.
   *
   * @default {Infinity}
   */
  silentFrom?: number;
  /**
   * Most connects in progress at once.
   *
   * @default {MAX_CONNECTING}
   */
  maxConnecting?: number;
  /** Takes client `i`'s connection. */
  take: (conn: LoadConnection, i: number) => void;
  /**
   * Stops starting new connects.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * Connects clients `from` to `to` (exclusive), or its share of them, at
 * the connect rate. The schedule starts afresh with each step, so a pause
 * between steps never turns into a burst of catching up. No connect is
 * started after one failed.
 *
 * @example
 * ```ts ignore
 * import { connectRange } from "./ramp.ts";
 * const result = await connectRange({ targets, from: 0, to: 100, connectRate: 1000, deadlineMs, take });
 * console.log(result.connected, result.errors);
 * ```
 */
export async function connectRange(
  options: ConnectRangeOptions,
): Promise<StepResult> {
  const { targets, connectRate, signal, from, to, deadlineMs } = options;
  const stride = options.stride ?? 1;
  const offset = options.offset ?? 0;
  const silentFrom = options.silentFrom ?? Infinity;
  const maxConnecting = options.maxConnecting ?? MAX_CONNECTING;
  const times = new LatencyHistogram();
  const errors: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  let connected = 0;
  let failed = false;
  let timedOut = false;
  const start = options.startMs ?? performance.now();
  const first = from + ((offset - (from % stride)) % stride + stride) % stride;
  for (let i = first; i < to; i += stride) {
    if (signal?.aborted || failed) break;
    if (connectRate > 0) {
      await sleepUntil(start + ((i - from) / connectRate) * 1000);
    }
    while (inFlight.size >= maxConnecting) await Promise.race(inFlight);
    if (failed) break;
    if (performance.now() > deadlineMs) {
      timedOut = true;
      break;
    }
    const attempt = (async () => {
      const began = performance.now();
      try {
        const target = targets[i % targets.length];
        const conn = i >= silentFrom
          ? await connectSilent(target, options)
          : await connectClient(target, options);
        times.record((performance.now() - began) * 1000);
        connected++;
        options.take(conn, i);
      } catch (error) {
        failed = true;
        const name = errorName(error);
        errors[name] = (errors[name] ?? 0) + 1;
      }
    })();
    inFlight.add(attempt);
    attempt.finally(() => inFlight.delete(attempt));
  }
  const finished = await settlesWithin(
    Promise.all(inFlight),
    deadlineMs - performance.now(),
  );
  if (!finished) timedOut = true;
  const result = { connected, errors, timedOut, times: times.transfer() };
  times.destroy();
  return result;
}
