/**
 * The connection ramp: clients connect at the connect rate, in steps
 * (with a pause and a reading of the server's memory after each, when it
 * is measured), spread round-robin over the targets. Every connect is
 * timed; failures are counted by error, and the ramp as a whole is
 * bounded in time.
 *
 * @module
 */

import { LatencyHistogram } from "../latency_histogram.ts";
import { sleep } from "../_async.ts";
import type { LoadTarget } from "./options.ts";
import { errorName, settlesWithin, sleepUntil } from "./_util.ts";

/** Most connections in progress at once. */
const MAX_CONNECTING = 256;

/** Options for {@linkcode rampUp}. */
export interface RampOptions {
  /** Where client `i` connects: `targets[i % targets.length]`. */
  targets: readonly LoadTarget[];
  /** Connections to make in all. */
  total: number;
  /** New connections per second; 0: as fast as possible. */
  connectRate: number;
  /** Steps the ramp is made in (each paced afresh). */
  steps: number;
  /** How long the whole ramp may take, ms. */
  timeoutMs: number;
  /** Takes connection number `i` (in the order they were started). */
  onConnect: (conn: Deno.TcpConn, i: number) => void;
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
  /** How long the ramp took, s. */
  seconds: number;
  /** Why it failed (connects failed, it timed out, it was aborted). */
  failure: string | null;
}

/**
 * Connects `total` clients at the connect rate, in `steps`.
 *
 * @example
 * ```ts
 * import { rampUp } from "./ramp.ts";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const { port } = listener.addr as Deno.NetAddr;
 * const conns: Deno.TcpConn[] = [];
 * const ramp = await rampUp({
 *   targets: [{ hostname: "127.0.0.1", port }], total: 3, connectRate: 0,
 *   steps: 1, timeoutMs: 5000, onConnect: (conn) => conns.push(conn),
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
  let failure: string | null = null;
  const start = performance.now();
  const deadline = start + options.timeoutMs;
  const take = (conn: Deno.TcpConn, i: number) => {
    connected++;
    options.onConnect(conn, i);
  };
  let next = 0;
  for (let step = 1; step <= steps && !failure; step++) {
    const stepEnd = Math.round((total * step) / steps);
    const result = await connectRange(
      options,
      next,
      stepEnd,
      deadline,
      times,
      take,
    );
    next = stepEnd;
    for (const [message, count] of Object.entries(result.errors)) {
      errors[message] = (errors[message] ?? 0) + count;
      failed += count;
    }
    if (failed > 0) {
      failure = `${failed} of ${total} connections failed (${
        Object.keys(errors).join(", ")
      })`;
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
    seconds: (performance.now() - start) / 1000,
    failure,
  };
}

/**
 * Connects clients `from` to `to` (exclusive) at the connect rate. The
 * schedule starts afresh with each step, so a pause between steps never
 * turns into a burst of catching up.
 */
async function connectRange(
  options: RampOptions,
  from: number,
  to: number,
  deadline: number,
  times: LatencyHistogram,
  take: (conn: Deno.TcpConn, i: number) => void,
): Promise<{ errors: Record<string, number>; timedOut: boolean }> {
  const { targets, connectRate, signal } = options;
  const errors: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  let timedOut = false;
  const start = performance.now();
  for (let i = from; i < to; i++) {
    if (signal?.aborted) break;
    if (connectRate > 0) {
      await sleepUntil(start + ((i - from) / connectRate) * 1000);
    }
    while (inFlight.size >= MAX_CONNECTING) await Promise.race(inFlight);
    if (performance.now() > deadline) {
      timedOut = true;
      break;
    }
    const attempt = (async () => {
      const start = performance.now();
      try {
        const target = targets[i % targets.length];
        const conn = await Deno.connect({
          hostname: target.hostname,
          port: target.port,
          transport: "tcp",
        });
        times.record((performance.now() - start) * 1000);
        try {
          conn.setNoDelay(true);
        } catch {
          // Already reset: the read loop will see it.
        }
        take(conn, i);
      } catch (error) {
        const name = errorName(error);
        errors[name] = (errors[name] ?? 0) + 1;
      }
    })();
    inFlight.add(attempt);
    attempt.finally(() => inFlight.delete(attempt));
  }
  const finished = await settlesWithin(
    Promise.all(inFlight),
    deadline - performance.now(),
  );
  if (!finished) timedOut = true;
  return { errors, timedOut };
}
