/**
 * Comparing the lines a client received with the lines it should have
 * received, and saying in one line how they differ.
 *
 * @module
 */

import { bytesEqual as same } from "./bytes.ts";
import { escapeBytes } from "./escape.ts";

const quote = (bytes: Uint8Array) =>
  `"${escapeBytes(bytes, { maxBytes: 60 })}"`;

/**
 * `null` when `received` equals `expected` line for line and byte for
 * byte; otherwise one line describing the first difference, naming the
 * client (`who`): a changed line, a missing one, an extra one.
 *
 * @example
 * ```ts
 * import { describeLineMismatch } from "./compare.ts";
 * const e = new TextEncoder();
 * console.log(describeLineMismatch("B", [e.encode(" a ")], [e.encode("a")]));
 * // B received "a" where " a " was expected (line 1 of 1)
 * ```
 */
export function describeLineMismatch(
  who: string,
  expected: readonly Uint8Array[],
  received: readonly Uint8Array[],
): string | null {
  const n = Math.min(expected.length, received.length);
  let i = 0;
  while (i < n && same(expected[i], received[i])) i++;
  if (i === expected.length && i === received.length) return null;
  const of = `of ${expected.length}`;
  if (i === received.length) {
    const missing = expected.length - i;
    return `${who} did not receive ${quote(expected[i])} (line ${
      i + 1
    } ${of})` +
      (missing > 1 ? ` nor the ${missing - 1} after it` : "");
  }
  if (i === expected.length) {
    const extra = received.length - i;
    return `${who} received an unexpected line ${quote(received[i])} after ` +
      `the ${expected.length} expected` +
      (extra > 1 ? ` (and ${extra - 1} more)` : "");
  }
  if (i + 1 < expected.length && same(expected[i + 1], received[i])) {
    return `${who} did not receive ${quote(expected[i])} (line ${i + 1} ${of})`;
  }
  if (i + 1 < received.length && same(expected[i], received[i + 1])) {
    return `${who} received an unexpected line ${quote(received[i])} ` +
      `before line ${i + 1} ${of}`;
  }
  return `${who} received ${quote(received[i])} where ${
    quote(expected[i])
  } was expected (line ${i + 1} ${of})`;
}

/**
 * The content of received lines as the server meant it. A server that ends
 * lines with LF alone (breaking §2.5) sends a line whose content ends with
 * CR as `…\r\n`, which reads as CR LF; so once any line of the same
 * stream came with LF alone, a line read with CR LF gets its CR back.
 * Content is then judged apart from the terminator (§2.5 has its own case).
 *
 * @example
 * ```ts
 * import { contentOf } from "./compare.ts";
 * const e = new TextEncoder();
 * const lines = [{ bytes: e.encode("end"), crlf: true }, { bytes: e.encode("x"), crlf: false }];
 * console.log(contentOf(lines).map((b) => new TextDecoder().decode(b))); // [ "end\r", "x" ]
 * ```
 */
export function contentOf(
  lines: readonly { bytes: Uint8Array; crlf: boolean }[],
  lfOutput = lines.some((line) => !line.crlf),
): Uint8Array[] {
  return lines.map((line) => {
    if (!lfOutput || !line.crlf) return line.bytes;
    const out = new Uint8Array(line.bytes.length + 1);
    out.set(line.bytes);
    out[line.bytes.length] = 0x0d;
    return out;
  });
}
