/**
 * Judging the lines a client received before a sentinel against those
 * expected: decorated, mismatched, or LFs relayed as content.
 *
 * @module
 */

import { bytesEqual } from "./bytes.ts";
import {
  consistentDecoration,
  contentOf,
  decoration,
  describeDecoration,
  lineMismatch,
} from "./compare.ts";
import type { Evidence } from "./findings.ts";
import type { Collected } from "./peer.ts";

/**
 * Options for `RoomSync.expectLines` (in `sync.ts`).
 *
 * @example
 * ```ts
 * import type { ExpectLinesOptions } from "./judge_lines.ts";
 * const options: ExpectLinesOptions = { clause: "§2.8", what: "the empty lines" };
 * console.log(options.what);
 * ```
 */
export interface ExpectLinesOptions {
  /** The clause a mismatch breaks, when not the case's own. */
  clause?: string;
  /** What the lines are, for the message when the sentinel never comes. */
  what?: string;
  /**
   * How long to wait for the sentinel (a grace period follows).
   *
   * @default {the line timeout, scaled}
   */
  timeoutMs?: number;
  /**
   * The lines are payloads a dialect took out (`--dialect`): bytes still
   * around them are not the decoration it declared, so they are the
   * case's finding, not the `decorated` root cause.
   *
   * @default {false}
   */
  throughDialect?: boolean;
}

/**
 * Says why a collect ended without its match.
 *
 * @example
 * ```ts
 * import { describeEnd } from "./judge_lines.ts";
 * console.log(describeEnd({ lines: [], end: "eof" }, 2000)); // "the server closed the connection"
 * ```
 */
export function describeEnd(collected: Collected, timeoutMs: number): string {
  switch (collected.end) {
    case "timeout":
      return `nothing matching arrived within ${timeoutMs} ms` +
        (collected.lines.length > 0
          ? ` (${collected.lines.length} other lines did)`
          : "");
    case "eof":
      return "the server closed the connection";
    case "reset":
      return `the connection broke (${collected.error})`;
    case "closed":
      return "the harness closed the client (the case was stopped)";
    default:
      return "it arrived";
  }
}

/**
 * What is wrong with the lines `got` at client `name`, expected to be
 * `want` and ended by `sentinel`, or `null` if they are right.
 *
 * @example
 * ```ts
 * import { judgeExpectedLines } from "./judge_lines.ts";
 * const failure = judgeExpectedLines("B", [new TextEncoder().encode("hi")], { lines: [], end: "eof", waitedMs: 10 }, new TextEncoder().encode("end"));
 * console.log(failure?.message); // "B never got the sentinel that follows the lines: the server closed the connection"
 * ```
 */
export function judgeExpectedLines(
  name: string,
  want: readonly Uint8Array[],
  got: Collected & { waitedMs: number },
  sentinel: Uint8Array,
  options: ExpectLinesOptions = {},
): { message: string; evidence: Evidence } | null {
  const lfOutput = [...got.lines, ...(got.found ? [got.found] : [])]
    .some((line) => !line.crlf);
  const lines = contentOf(got.lines, lfOutput);
  const evidence: Evidence = {
    clause: options.clause,
    expected: { [name]: want },
    received: { [name]: lines },
  };
  if (got.end !== "found") {
    return {
      message: `${name} never got the sentinel that follows ${
        options.what ?? "the lines"
      }: ${describeEnd(got, got.waitedMs)}`,
      evidence,
    };
  }
  // Every line, the sentinel too, wrapped the same way: decorated, and
  // that is all that is wrong.
  const wrap = consistentDecoration(want, lines, sentinel);
  if (wrap !== null && options.throughDialect) {
    return {
      message:
        `${name} received the payloads with bytes around them that the dialect ` +
        `does not explain: ${describeDecoration(want[0], lines[0])}`,
      evidence,
    };
  }
  if (wrap !== null) {
    return {
      message:
        `${name} received the lines decorated: ${
          describeDecoration(want[0], lines[0])
        }` +
        (want.length > 1
          ? ` (and ${want.length - 1} more lines likewise)`
          : ""),
      evidence: { ...evidence, clause: "§2.4", cause: "decorated" },
    };
  }
  // A sentinel decorated like another line (a server that prefixes each
  // read, say) is the sentinel: judge the lines before it.
  const last = lines[lines.length - 1];
  const outer = last && got.found && !bytesEqual(got.found.bytes, sentinel)
    ? decoration(sentinel, last)
    : null;
  const judged = outer !== null && outer.prefix.length > 0 &&
      lines.slice(0, -1).some((line, i) =>
        want[i] !== undefined &&
        bytesEqual(
          line.subarray(0, outer.prefix.length),
          outer.prefix,
        ) && decoration(want[i], line) !== null
      )
    ? lines.slice(0, -1)
    : lines;
  const mismatch = lineMismatch(name, want, judged);
  if (mismatch !== null && options.throughDialect) {
    return {
      message: mismatch.decorated
        ? `${mismatch.message} (bytes the dialect does not explain)`
        : mismatch.message,
      evidence,
    };
  }
  if (mismatch !== null) {
    return {
      message: mismatch.message,
      evidence: {
        ...evidence,
        clause: mismatch.decorated ? "§2.4" : options.clause,
        cause: mismatch.decorated ? "decorated" : undefined,
      },
    };
  }
  // The right bytes, but the LFs came through as content: lines ended by
  // LF alone inside a stream the server ends with CR LF were one line to
  // it (a server that frames only CR LF, reached with --send-eol crlf).
  const lfAlone = got.lines.filter((line) => !line.crlf).length;
  if (got.found?.crlf && lfAlone > 0) {
    return {
      message:
        `${name} received the lines, but ${lfAlone} of them ended by LF alone where the ` +
        "server ends its lines with CR LF: it relayed them as one line, the LFs in it as " +
        "content (LF does not end a line for it)",
      evidence: { ...evidence, clause: "§1.2" },
    };
  }
  return null;
}
