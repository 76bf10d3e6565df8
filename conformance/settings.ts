/**
 * The settings one attempt of a case runs with, and the base timeouts every
 * wait is scaled from.
 *
 * @module
 */

import type { Target } from "../lib/args.ts";

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
  /** For a connection to be accepted. */
  connect: 3000,
  /** For the server to close a connection it should close. */
  close: 3000,
} as const;

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
  /** Where clients connect, spread round-robin. */
  targets: Target[];
  /** The target's declared line limit L. */
  maxLineBytes: number;
  /** The target's declared bound on output held for one client. */
  maxPendingBytes: number;
  /** Clients for the many-clients case. */
  clients: number;
  /** Multiplies every timeout. */
  timeoutScale: number;
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
