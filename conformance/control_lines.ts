/**
 * The lines the harness sends for itself: control lines (registration
 * barriers, acks, ticks), which cases never judge, and sentinels, which
 * are content. Both carry the attempt's tag, so lines of one attempt can
 * never be taken for another's.
 *
 * @module
 */

import { startsWith, utf8 } from "./bytes.ts";

/**
 * The prefix of the harness's control lines (registration barriers and
 * ticks). Lines that start with it are left out of what cases judge; they
 * stay in the trace.
 *
 * @example
 * ```ts
 * import { CONTROL_PREFIX } from "./control_lines.ts";
 * console.log(CONTROL_PREFIX); // "lcc~ctl~"
 * ```
 */
export const CONTROL_PREFIX = "lcc~ctl~";
const CONTROL_BYTES = utf8(CONTROL_PREFIX);

/**
 * The prefix of sentinel lines (content that proves, by arriving, that
 * everything its sender completed before it arrived too).
 *
 * @example
 * ```ts
 * import { SENTINEL_PREFIX } from "./control_lines.ts";
 * console.log(SENTINEL_PREFIX); // "lcc~end~"
 * ```
 */
export const SENTINEL_PREFIX = "lcc~end~";

/**
 * Whether `line` is a harness control line.
 *
 * @example
 * ```ts
 * import { isControlLine } from "./control_lines.ts";
 * console.log(isControlLine(new TextEncoder().encode("lcc~ctl~tick~c1~1"))); // true
 * ```
 */
export function isControlLine(line: Uint8Array): boolean {
  return startsWith(line, CONTROL_BYTES);
}

/**
 * A control line: `lcc~ctl~KIND~PART~…`.
 *
 * @example
 * ```ts
 * import { controlLine } from "./control_lines.ts";
 * console.log(new TextDecoder().decode(controlLine("join", "c3", "B"))); // "lcc~ctl~join~c3~B"
 * ```
 */
export function controlLine(
  kind: "join" | "ack" | "tick",
  ...parts: (string | number)[]
): Uint8Array {
  return utf8(`${CONTROL_PREFIX}${[kind, ...parts].join("~")}`);
}

/**
 * A sentinel line: `lcc~end~PART~…`.
 *
 * @example
 * ```ts
 * import { sentinelLine } from "./control_lines.ts";
 * console.log(new TextDecoder().decode(sentinelLine("c3", "A", 1))); // "lcc~end~c3~A~1"
 * ```
 */
export function sentinelLine(...parts: (string | number)[]): Uint8Array {
  return utf8(`${SENTINEL_PREFIX}${parts.join("~")}`);
}
