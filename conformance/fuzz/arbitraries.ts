/**
 * The fast-check arbitraries that generate fuzz schedules: line contents
 * biased towards the bytes servers get wrong (spaces, tabs, CR, NUL,
 * invalid and multi-byte UTF-8, empty lines), sends of several lines and
 * a partial one cut into segments every way, leaving by each kind and
 * mid-line, pauses, and identities that come back (reconnects). Shrinking
 * comes with them: fewer steps, shorter contents, simpler cuts.
 *
 * @module
 */

import fc from "fast-check";
import { bytesLatin1, MAX_CLIENTS, type Step } from "./schedule.ts";

const FRAGMENTS = [
  "a",
  "hi",
  " ",
  "\t",
  "\r",
  "\0",
  "\xff",
  "\xc3\xa9",
  "\xe2\x82\xac",
  "  x  ",
  "lcf",
];

/**
 * The content of a line (latin1, never an LF): fragments that matter to
 * servers, random bytes, and now and then a long line.
 *
 * @example
 * ```ts
 * import fc from "fast-check";
 * import { lineContent } from "./arbitraries.ts";
 * const [sample] = fc.sample(lineContent, { seed: 1, numRuns: 1 });
 * console.log(sample.includes("\n")); // false
 * ```
 */
export const lineContent: fc.Arbitrary<string> = fc.oneof(
  { withCrossShrink: true },
  {
    weight: 6,
    arbitrary: fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 4 }).map((
      parts,
    ) => parts.join("")),
  },
  {
    weight: 3,
    arbitrary: fc.uint8Array({ maxLength: 12 }).map((bytes) =>
      bytesLatin1(bytes.filter((b) => b !== 0x0a))
    ),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 200, max: 3000 }).map((n) =>
      "x".repeat(n - 1) + "y"
    ),
  },
);

/**
 * What one send writes: up to three lines, each ended by LF or CR LF, and
 * maybe a partial line after them; never empty.
 *
 * @example
 * ```ts
 * import fc from "fast-check";
 * import { sendData } from "./arbitraries.ts";
 * const [sample] = fc.sample(sendData, { seed: 2, numRuns: 1 });
 * console.log(sample.length > 0); // true
 * ```
 */
export const sendData: fc.Arbitrary<string> = fc.tuple(
  fc.array(fc.tuple(lineContent, fc.constantFrom("\n", "\r\n")), {
    minLength: 0,
    maxLength: 3,
  }),
  fc.option(lineContent, { nil: undefined, freq: 2 }),
).map(([lines, partial]) => {
  const data = lines.map(([c, eol]) => c + eol).join("") + (partial ?? "");
  return data === "" ? "\n" : data;
});

/** Client 0 comes up more often, so one identity reconnects a lot. */
const clientIndex = fc.oneof(
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: MAX_CLIENTS - 1 }) },
);

/**
 * One step of a schedule.
 *
 * @example
 * ```ts
 * import fc from "fast-check";
 * import { step } from "./arbitraries.ts";
 * console.log(fc.sample(step, { seed: 3, numRuns: 5 }).length); // 5
 * ```
 */
export const step: fc.Arbitrary<Step> = fc.oneof(
  { withCrossShrink: true },
  {
    weight: 4,
    arbitrary: fc.record({
      do: fc.constant("join" as const),
      client: clientIndex,
      line: lineContent,
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      do: fc.constant("send" as const),
      client: clientIndex,
      data: sendData,
      cut: fc.constantFrom(
        "whole" as const,
        "bytes" as const,
        "random" as const,
        "crlf-split" as const,
      ),
      cuts: fc.array(fc.nat({ max: 4000 }), { maxLength: 4 }),
      tick: fc.boolean(),
    }).map((s) =>
      // Byte by byte with a tick per byte is for short sends only.
      s.cut === "bytes" && s.data.length > 64
        ? { ...s, cut: "random" as const }
        : s
    ),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      do: fc.constant("leave" as const),
      client: clientIndex,
      how: fc.constantFrom(
        "close" as const,
        "half-close" as const,
        "reset" as const,
      ),
      tail: fc.oneof(
        { weight: 2, arbitrary: fc.constant("") },
        { weight: 1, arbitrary: lineContent },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      do: fc.constantFrom("pause" as const, "resume" as const),
      client: clientIndex,
    }),
  },
);

/**
 * A schedule: 1 to `maxSteps` steps (those that do not apply when their
 * turn comes are left out when it runs).
 *
 * @example
 * ```ts
 * import fc from "fast-check";
 * import { schedule } from "./arbitraries.ts";
 * const [steps] = fc.sample(schedule(10), { seed: 4, numRuns: 1 });
 * console.log(steps.length <= 10); // true
 * ```
 */
export function schedule(maxSteps = 40): fc.Arbitrary<Step[]> {
  return fc.array(step, { minLength: 1, maxLength: maxSteps, size: "max" });
}
