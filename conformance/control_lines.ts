/**
 * The lines the harness sends for itself: control lines (registration
 * barriers, acks, ticks), which cases never judge, and sentinels, which
 * are content. Both carry the attempt's tag, so lines of one attempt can
 * never be taken for another's.
 *
 * @module
 */

import { indexOfBytes, startsWith, utf8 } from "./bytes.ts";

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

const DECORATED_CONTROL = utf8(` ${CONTROL_PREFIX}`);

/**
 * Whether `line` is a harness control line: one that starts with the
 * control prefix, or has it after a decoration that ends with a space (a
 * server's `ADDR: ` or `<user4> `). Bytes glued straight onto it (a
 * partial line, a merged fragment) make it content, to be judged.
 *
 * @example
 * ```ts
 * import { isControlLine } from "./control_lines.ts";
 * const e = new TextEncoder();
 * console.log(isControlLine(e.encode("lcc~ctl~tick~c1~1")), isControlLine(e.encode("<user4> lcc~ctl~tick~c1~1"))); // true true
 * console.log(isControlLine(e.encode("PARTIALlcc~ctl~tick~c1~1"))); // false
 * ```
 */
export function isControlLine(line: Uint8Array): boolean {
  return startsWith(line, CONTROL_BYTES) ||
    indexOfBytes(line, DECORATED_CONTROL) >= 0;
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
