// Pieces every attack uses: running against a target and recording the
// server run, connecting many clients, sleeping, and sampling the
// server's memory while something goes on.

import { sleep, within } from "../_async.ts";
import type { ServerRun } from "./report.ts";
import {
  openTarget,
  type OpenTargetOptions,
  type Target,
  type TargetSpec,
} from "./target.ts";

export { sleep, within };

/**
 * Opens the target, runs `fn` on it, stops it (always), and records it.
 *
 * @example
 * ```ts ignore
 * import { withTarget } from "./_run.ts";
 * const { value, server } = await withTarget(spec, "as given", {}, (target) => Promise.resolve(target.port));
 * ```
 */
export async function withTarget<T>(
  spec: TargetSpec,
  label: string,
  open: OpenTargetOptions,
  fn: (target: Target) => Promise<T>,
): Promise<{ value: T; server: ServerRun }> {
  const target = await openTarget(spec, open);
  let value: T;
  try {
    value = await fn(target);
  } catch (error) {
    await target.stop(2000);
    throw error;
  }
  const exit = await target.stop();
  return {
    value,
    server: {
      label,
      command: target.description,
      pid: target.pid,
      exit,
    },
  };
}

/**
 * Connects `count` clients to the target, at most `parallel` at a time,
 * with TCP_NODELAY. Throws if any connect fails (the attack cannot run).
 *
 * @example
 * ```ts ignore
 * import { connectMany } from "./_run.ts";
 * const readers = await connectMany(target, 50);
 * ```
 */
export async function connectMany(
  target: Target,
  count: number,
  parallel = 50,
): Promise<Deno.TcpConn[]> {
  const conns: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < count; i += parallel) {
      const batch = await Promise.all(
        Array.from(
          { length: Math.min(parallel, count - i) },
          () => Deno.connect({ hostname: target.hostname, port: target.port }),
        ),
      );
      for (const conn of batch) {
        conn.setNoDelay(true);
        conns.push(conn);
      }
    }
  } catch (error) {
    for (const conn of conns) conn.close();
    throw new Error(
      `cannot connect client ${
        conns.length + 1
      } of ${count} to ${target.hostname}:${target.port}: ${
        error instanceof Error ? error.message : error
      }`,
    );
  }
  return conns;
}

/**
 * The local port of a connection (the key of the server's log and /proc).
 *
 * @example
 * ```ts ignore
 * import { localPort } from "./_run.ts";
 * console.log(localPort(await Deno.connect({ port: 7687 })));
 * ```
 */
export function localPort(conn: Deno.Conn): number {
  return (conn.localAddr as Deno.NetAddr).port;
}

/** One RSS reading of the server, ms from the attack's start. */
export interface RssSample {
  /** When, ms from the start. */
  atMs: number;
  /** RSS, bytes. */
  rssBytes: number;
}

/**
 * Samples the server's RSS every `everyMs` until stopped.
 *
 * @example
 * ```ts ignore
 * import { RssSampler } from "./_run.ts";
 * const rss = new RssSampler(target, performance.now(), 1000);
 * // … the attack
 * rss.stop();
 * console.log(rss.peakBytes);
 * ```
 */
export class RssSampler {
  /** The samples so far. */
  readonly samples: RssSample[] = [];
  readonly #target: Target;
  readonly #origin: number;
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * Starts sampling `target` every `everyMs` (the first sample at once);
   * with 0, only when {@linkcode RssSampler.sample} is called.
   */
  constructor(target: Target, origin: number, everyMs = 1000) {
    this.#target = target;
    this.#origin = origin;
    if (everyMs > 0) {
      this.sample();
      this.#timer = setInterval(() => this.sample(), everyMs);
    }
  }

  /** Takes one sample now (nothing when the RSS cannot be read). */
  async sample(): Promise<void> {
    const atMs = Math.round(performance.now() - this.#origin);
    const rssBytes = await this.#target.rssBytes();
    if (rssBytes !== undefined) this.samples.push({ atMs, rssBytes });
  }

  /** The largest RSS seen, bytes (null if none). */
  get peakBytes(): number | null {
    return this.samples.length === 0
      ? null
      : Math.max(...this.samples.map((s) => s.rssBytes));
  }

  /** Stops sampling. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
