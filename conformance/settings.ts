/**
 * The settings one attempt of a case runs with, the base timeouts every
 * wait is scaled from, and the two scales: `--timeout-scale` (the user's,
 * for slow machines) and the wait scale measured from the server's own
 * latency before the cases (for slow servers, bounded).
 *
 * @module
 */

import type { AnyTarget } from "../lib/endpoint.ts";

import type { CompiledDialect } from "./dialect/dialect.ts";

/**
 * Base timeouts in ms, before `--timeout-scale`.
 *
 * @example
 * ```ts
 * import { TIMEOUTS } from "./settings.ts";
 * console.log(TIMEOUTS.line); // 2000
 * ```
 */
export const TIMEOUTS = {
  /** For a line that a correct server relays at once. */
  line: 2000,
  /**
   * For a connection to be accepted: long enough for the kernel's SYN
   * retries (after 1 s and 3 s) to a server whose listen queue overflowed,
   * so a slow accept is told apart from a refused one.
   */
  connect: 8000,
  /** For the server to close a connection it should close. */
  close: 3000,
} as const;

/**
 * After a wait for a line ran out, how much longer (as a multiple of the
 * wait) the harness goes on reading before it calls the line lost. A line
 * that arrives in that grace period is reported as late, with how late.
 *
 * @example
 * ```ts
 * import { GRACE_FACTOR } from "./settings.ts";
 * console.log(GRACE_FACTOR); // 1
 * ```
 */
export const GRACE_FACTOR = 1;

/**
 * The largest wait scale a slow server gets: waits grow with its measured
 * latency, but no more than this, so that a run stays bounded.
 *
 * @example
 * ```ts
 * import { MAX_WAIT_SCALE } from "./settings.ts";
 * console.log(MAX_WAIT_SCALE); // 4
 * ```
 */
export const MAX_WAIT_SCALE = 4;

/**
 * The settings a case runs with.
 *
 * @example
 * ```ts
 * import type { CaseSettings } from "./settings.ts";
 * const settings: CaseSettings = {
 *   targets: [{ hostname: "127.0.0.1", port: 7687 }],
 *   maxLineBytes: 65536,
 *   maxPendingBytes: 4 * 1024 * 1024,
 *   clients: 500,
 *   timeoutScale: 1,
 *   tag: "c1",
 * };
 * console.log(settings.tag);
 * ```
 */
export interface CaseSettings {
  /** Where clients connect, spread round-robin (plain TCP unless `kind` says). */
  targets: AnyTarget[];
  /**
   * Certificates (PEM) to trust for `tls` and `wss` targets.
   *
   * @default {[]}
   */
  caCerts?: string[];
  /** The target's declared line limit L. */
  maxLineBytes: number;
  /** The target's declared bound on output held for one client. */
  maxPendingBytes: number;
  /** Clients for the many-clients case. */
  clients: number;
  /** Multiplies every timeout. */
  timeoutScale: number;
  /**
   * Multiplies every wait for a line, on top of `timeoutScale`: from the
   * server's latency measured before the cases (1 for a fast server, at
   * most {@linkcode MAX_WAIT_SCALE}).
   *
   * @default {1}
   */
  waitScale?: number;
  /**
   * The 99th percentile of the server's round trip measured before the
   * cases (ms): barrier lines are repeated no sooner than three of them.
   *
   * @default {0}
   */
  latencyP99Ms?: number;
  /**
   * How the harness ends the lines it sends.
   *
   * @default {"lf"}
   */
  sendEol?: "lf" | "crlf";
  /**
   * The server's dialect (`--dialect`): clients judge payloads through it.
   *
   * @default {undefined}
   */
  dialect?: CompiledDialect;
  /** The target's declared client limit, if known. */
  maxClients?: number;
  /** The run's unique tag for this case attempt (in sentinels). */
  tag: string;
}

/**
 * `baseMs` times the settings' timeout scale, rounded to a whole ms.
 *
 * @example
 * ```ts
 * import { scaledTimeout } from "./settings.ts";
 * console.log(scaledTimeout({ timeoutScale: 1.5 }, 2000)); // 3000
 * ```
 */
export function scaledTimeout(
  settings: Pick<CaseSettings, "timeoutScale">,
  baseMs: number,
): number {
  return Math.round(baseMs * settings.timeoutScale);
}

/**
 * A wait for lines: `baseMs` times the timeout scale and the wait scale
 * (the server's measured latency), rounded to a whole ms.
 *
 * @example
 * ```ts
 * import { scaledWait } from "./settings.ts";
 * console.log(scaledWait({ timeoutScale: 1, waitScale: 2.5 }, 2000)); // 5000
 * ```
 */
export function scaledWait(
  settings: Pick<CaseSettings, "timeoutScale" | "waitScale">,
  baseMs: number,
): number {
  return Math.round(baseMs * settings.timeoutScale * (settings.waitScale ?? 1));
}

/**
 * The wait scale for a server whose round trip (one line from one client
 * to another and back) has `p99Ms` as its 99th percentile: 1 up to
 * 100 ms, then growing by 1 per 150 ms more, at most
 * {@linkcode MAX_WAIT_SCALE}; two decimals.
 *
 * @example
 * ```ts
 * import { waitScaleFor } from "./settings.ts";
 * console.log(waitScaleFor(0.4), waitScaleFor(400), waitScaleFor(5000)); // 1 3 4
 * ```
 */
export function waitScaleFor(p99Ms: number): number {
  if (!(p99Ms > 100)) return 1;
  const scale = 1 + (p99Ms - 100) / 150;
  return Math.min(MAX_WAIT_SCALE, Math.round(scale * 100) / 100);
}
