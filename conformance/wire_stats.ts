/**
 * What a whole run saw on the wire, across cases: how the server ended the
 * lines it sent (§2.5), and which short lines the run's clients sent (to
 * tell replayed history from a banner).
 *
 * @module
 */

import { fnv1a } from "./escape.ts";

/**
 * Counters shared by every peer of a run.
 *
 * @example
 * ```ts
 * import type { WireStats } from "./wire_stats.ts";
 * const stats: WireStats = { linesReceived: 0, lfOnlyLines: 0 };
 * console.log(stats.linesReceived);
 * ```
 */
export interface WireStats {
  /** Lines received from the server. */
  linesReceived: number;
  /** Of those, lines ended by LF alone. */
  lfOnlyLines: number;
  /**
   * Keys ({@linkcode lineKey}) of the short lines clients of the run sent,
   * to tell replayed history from a banner.
   */
  sent?: Set<string>;
}

/**
 * A compact key for a line: its length and FNV-1a hash.
 *
 * @example
 * ```ts
 * import { lineKey } from "./wire_stats.ts";
 * console.log(lineKey(new Uint8Array([0x61]))); // "1:e40c292c"
 * ```
 */
export function lineKey(line: Uint8Array): string {
  return `${line.length}:${fnv1a(line)}`;
}

/** Most bytes of one write scanned for lines to remember. */
const MAX_REMEMBERED_WRITE = 64 * 1024;
/** Most lines remembered per run. */
const MAX_REMEMBERED_LINES = 200_000;

/**
 * Remembers the complete lines of one write in `stats.sent` (when the run
 * keeps them): writes over 64 KiB are not scanned, and at most 200,000
 * lines are kept.
 *
 * @example
 * ```ts
 * import { lineKey, rememberSentLines, type WireStats } from "./wire_stats.ts";
 * const stats: WireStats = { linesReceived: 0, lfOnlyLines: 0, sent: new Set() };
 * rememberSentLines(stats, new TextEncoder().encode("a\r\nb"));
 * console.log(stats.sent!.has(lineKey(new TextEncoder().encode("a")))); // true
 * ```
 */
export function rememberSentLines(stats: WireStats, data: Uint8Array): void {
  const sent = stats.sent;
  if (!sent || data.length > MAX_REMEMBERED_WRITE) return;
  let start = 0;
  for (let i = 0; i < data.length && sent.size < MAX_REMEMBERED_LINES; i++) {
    if (data[i] !== 0x0a) continue;
    const end = i > start && data[i - 1] === 0x0d ? i - 1 : i;
    sent.add(lineKey(data.subarray(start, end)));
    start = i + 1;
  }
}
