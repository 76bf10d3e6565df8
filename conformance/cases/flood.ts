/**
 * Hostile-client cases (PROTOCOL.md §4.9, §4.10): one client floods while
 * the others chat and keep reading (`flood_readers.ts`); tiny lines stream
 * to clients that stopped reading while the server's memory is watched
 * (`flood_memory.ts`).
 *
 * Both are bounded in time and bytes and judge by counts (readers cut,
 * lines lost, bytes of memory), never by how fast something happened:
 * latencies are reported as evidence only.
 *
 * @module
 */

import type { CaseDefinition } from "../case.ts";
import { TINY_LINES_MEMORY } from "./flood_memory.ts";
import { READERS_KEEP_UP } from "./flood_readers.ts";

/**
 * The flood cases.
 *
 * @example
 * ```ts
 * import { FLOOD_CASES } from "./flood.ts";
 * console.log(FLOOD_CASES.map((c) => c.id));
 * ```
 */
export const FLOOD_CASES: CaseDefinition[] = [
  READERS_KEEP_UP,
  TINY_LINES_MEMORY,
];
