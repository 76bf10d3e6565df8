/**
 * A fuzz schedule: the steps one fuzz run performs (clients join, send
 * bytes cut into segments, leave by close, half-close or reset, pause and
 * resume reading), how a schedule is written as a short list of steps, and
 * its replay encoding (`--replay`), which is the schedule itself, so a
 * replay does not depend on the generator or the library's version.
 *
 * Bytes are carried as latin1 strings: one character per byte.
 *
 * @module
 */

import { escapeBytes } from "../escape.ts";

/**
 * How a send's bytes are cut into writes: `whole` (one write, several
 * lines coalesced), `bytes` (one byte per write), `random` (at the cut
 * points of the step) or `crlf-split` (between every CR and the byte after
 * it, so a CR LF is split).
 *
 * @example
 * ```ts
 * import type { Segmentation } from "./schedule.ts";
 * const cut: Segmentation = "crlf-split";
 * console.log(cut);
 * ```
 */
export type Segmentation = "whole" | "bytes" | "random" | "crlf-split";

/**
 * How a client leaves: FIN, shutting down its sending side, or RST.
 *
 * @example
 * ```ts
 * import type { LeaveKind } from "./schedule.ts";
 * const how: LeaveKind = "half-close";
 * console.log(how);
 * ```
 */
export type LeaveKind = "close" | "half-close" | "reset";

/**
 * One step of a schedule. `client` numbers a client identity (0 is A);
 * an identity that joins again after leaving is a reconnect, from the same
 * source address. Bytes are latin1 strings.
 *
 * @example
 * ```ts
 * import type { Step } from "./schedule.ts";
 * const steps: Step[] = [
 *   { do: "join", client: 0, line: "hi" },
 *   { do: "send", client: 0, data: "a\r\nb", cut: "crlf-split", cuts: [], tick: true },
 *   { do: "leave", client: 0, how: "reset", tail: "" },
 * ];
 * console.log(steps.length); // 3
 * ```
 */
export type Step =
  | {
    /** Connect, then send `line` whole with LF (the join's barrier line). */
    do: "join";
    client: number;
    line: string;
  }
  | {
    /** Send `data` (lines and maybe a partial one) cut as `cut` says. */
    do: "send";
    client: number;
    data: string;
    cut: Segmentation;
    /** Cut points for `random` (taken modulo the length). */
    cuts: number[];
    /** Make the server go round its loop between segments (a tick). */
    tick: boolean;
  }
  | {
    /** Send `tail` (no LF: a partial line) if not empty, then leave. */
    do: "leave";
    client: number;
    how: LeaveKind;
    tail: string;
  }
  | { do: "pause"; client: number }
  | { do: "resume"; client: number };

/**
 * The most client identities a schedule uses (A to D).
 *
 * @example
 * ```ts
 * import { MAX_CLIENTS } from "./schedule.ts";
 * console.log(MAX_CLIENTS); // 4
 * ```
 */
export const MAX_CLIENTS = 4;

/**
 * The name of client identity `client` (`A`, `B`, …).
 *
 * @example
 * ```ts
 * import { clientName } from "./schedule.ts";
 * console.log(clientName(2)); // "C"
 * ```
 */
export function clientName(client: number): string {
  return String.fromCharCode(65 + client);
}

/**
 * The bytes of a latin1 string.
 *
 * @example
 * ```ts
 * import { latin1Bytes } from "./schedule.ts";
 * console.log(latin1Bytes("\xffa")); // Uint8Array(2) [ 255, 97 ]
 * ```
 */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/**
 * The latin1 string of some bytes.
 *
 * @example
 * ```ts
 * import { bytesLatin1 } from "./schedule.ts";
 * console.log(bytesLatin1(new Uint8Array([104, 105]))); // "hi"
 * ```
 */
export function bytesLatin1(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

/**
 * The writes a send step makes: its bytes cut as the step says.
 *
 * @example
 * ```ts
 * import { segments, type Step } from "./schedule.ts";
 * const step: Step = { do: "send", client: 0, data: "a\r\nb", cut: "crlf-split", cuts: [], tick: false };
 * if (step.do === "send") console.log(segments(step).map((s) => s.length)); // [ 2, 2 ]
 * ```
 */
export function segments(step: Extract<Step, { do: "send" }>): Uint8Array[] {
  const bytes = latin1Bytes(step.data);
  if (bytes.length <= 1 || step.cut === "whole") return [bytes];
  let points: number[];
  if (step.cut === "bytes") {
    points = [...Array(bytes.length - 1).keys()].map((i) => i + 1);
  } else if (step.cut === "crlf-split") {
    points = [];
    for (let i = 0; i < bytes.length - 1; i++) {
      if (bytes[i] === 0x0d) points.push(i + 1);
    }
  } else {
    points = [...new Set(step.cuts.map((c) => c % (bytes.length - 1) + 1))]
      .sort((a, b) => a - b);
  }
  const out: Uint8Array[] = [];
  let start = 0;
  for (const point of points) {
    out.push(bytes.subarray(start, point));
    start = point;
  }
  out.push(bytes.subarray(start));
  return out;
}

function show(text: string): string {
  return `"${escapeBytes(latin1Bytes(text), { maxBytes: 60 })}"`;
}

/**
 * One step in words, as the failure report lists it.
 *
 * @example
 * ```ts
 * import { describeStep } from "./schedule.ts";
 * console.log(describeStep({ do: "leave", client: 1, how: "close", tail: "ab" }));
 * // B sends "ab" (no LF) and closes (FIN) mid-line
 * ```
 */
export function describeStep(step: Step): string {
  const who = clientName(step.client);
  switch (step.do) {
    case "join":
      return `${who} connects and sends ${show(step.line)} + LF`;
    case "send": {
      const parts = segments(step);
      const how = parts.length === 1
        ? "in one write"
        : `in ${parts.length} writes (${step.cut}${
          step.tick ? ", the server reads each apart" : ""
        })`;
      return `${who} sends ${show(step.data)} ${how}`;
    }
    case "leave": {
      const how = {
        close: "closes (FIN)",
        "half-close": "half-closes",
        reset: "resets (RST)",
      }[step.how];
      return step.tail === ""
        ? `${who} ${how}`
        : `${who} sends ${show(step.tail)} (no LF) and ${how} mid-line`;
    }
    case "pause":
      return `${who} stops reading`;
    case "resume":
      return `${who} reads again`;
  }
}

/**
 * Encodes a schedule for `--replay`: base64url of its JSON.
 *
 * @example
 * ```ts
 * import { decodeSchedule, encodeSchedule } from "./schedule.ts";
 * const text = encodeSchedule([{ do: "pause", client: 0 }]);
 * console.log(decodeSchedule(text)); // [ { do: "pause", client: 0 } ]
 * ```
 */
export function encodeSchedule(steps: readonly Step[]): string {
  const json = JSON.stringify(steps.map(compact));
  const bytes = new TextEncoder().encode(json);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** Drops fields a step's kind does not use, so encodings stay short. */
function compact(step: Step): Step {
  if (step.do !== "send") return step;
  return step.cut === "random" ? step : { ...step, cuts: [] };
}

/**
 * Decodes `--replay`'s argument (see {@linkcode encodeSchedule}); throws
 * a `TypeError` saying what is wrong.
 *
 * @example
 * ```ts
 * import { decodeSchedule } from "./schedule.ts";
 * try {
 *   decodeSchedule("not-a-schedule");
 * } catch (error) {
 *   console.log((error as Error).name); // "TypeError"
 * }
 * ```
 */
export function decodeSchedule(text: string): Step[] {
  let value: unknown;
  try {
    const binary = atob(text.trim().replaceAll("-", "+").replaceAll("_", "/"));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new TypeError("not a schedule encoding (base64url of JSON)");
  }
  if (!Array.isArray(value)) throw new TypeError("a schedule is a list");
  return value.map((raw, i) => {
    const step = raw as Record<string, unknown>;
    const ok = typeof step === "object" && step !== null &&
      Number.isInteger(step.client) && (step.client as number) >= 0 &&
      (step.client as number) < MAX_CLIENTS && (
        (step.do === "join" && typeof step.line === "string" &&
          !step.line.includes("\n")) ||
        (step.do === "send" && typeof step.data === "string" &&
          ["whole", "bytes", "random", "crlf-split"].includes(
            step.cut as string,
          ) && Array.isArray(step.cuts) && typeof step.tick === "boolean") ||
        (step.do === "leave" && typeof step.tail === "string" &&
          !step.tail.includes("\n") &&
          ["close", "half-close", "reset"].includes(step.how as string)) ||
        step.do === "pause" || step.do === "resume"
      );
    if (!ok) throw new TypeError(`step ${i + 1} is not a valid step`);
    return step as unknown as Step;
  });
}
