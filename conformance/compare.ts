/**
 * Comparing the lines a client received with the lines it should have
 * received, and saying in one line how they differ.
 *
 * @module
 */

import { bytesEqual as same, indexOfBytes } from "./bytes.ts";
import { escapeBytes } from "./escape.ts";

const quote = (bytes: Uint8Array) =>
  `"${escapeBytes(bytes, { maxBytes: 60 })}"`;

/** Whether `extra` holds something visible (not only CR and whitespace). */
function visible(extra: Uint8Array): boolean {
  return extra.some((b) => b > 0x20 && b !== 0x7f);
}

/**
 * How `received` wraps `expected` when it is `expected` with bytes added
 * around it (a prefix such as `ADDR: `, a suffix), or null when it is not:
 * equal, not containing it, or only a CR or whitespace added (a terminator
 * kept as content is a framing fault, not a decoration).
 *
 * @example
 * ```ts
 * import { decoration } from "./compare.ts";
 * const e = new TextEncoder();
 * const d = decoration(e.encode("hello"), e.encode("127.0.0.1:4000: hello"));
 * console.log(new TextDecoder().decode(d!.prefix)); // "127.0.0.1:4000: "
 * console.log(decoration(e.encode("one"), e.encode("one\r"))); // null
 * ```
 */
export function decoration(
  expected: Uint8Array,
  received: Uint8Array,
): { prefix: Uint8Array; suffix: Uint8Array } | null {
  if (expected.length < 2 || received.length <= expected.length) return null;
  const at = indexOfBytes(received, expected);
  if (at < 0) return null;
  const prefix = received.subarray(0, at);
  const suffix = received.subarray(at + expected.length);
  if (!visible(prefix) && !visible(suffix)) return null;
  return { prefix, suffix };
}

/**
 * Says how the server decorated `expected` (which arrived as `received`):
 * `arrived decorated as "ADDR: line"`.
 *
 * @example
 * ```ts
 * import { describeDecoration } from "./compare.ts";
 * const e = new TextEncoder();
 * console.log(describeDecoration(e.encode("hi"), e.encode("A: hi")));
 * // "hi" arrived decorated as "A: hi"
 * ```
 */
export function describeDecoration(
  expected: Uint8Array,
  received: Uint8Array,
): string {
  return `${quote(expected)} arrived decorated as ${quote(received)}`;
}

/**
 * When every line a client received before its sentinel, and the sentinel
 * line itself, is the expected line with the same bytes added around it
 * (`ADDR: ` before, say): those bytes; else null. A sentinel with bytes
 * before it alone proves nothing (a partial line glued onto it looks the
 * same), so at least one expected line must show the same decoration.
 *
 * @example
 * ```ts
 * import { consistentDecoration } from "./compare.ts";
 * const e = (...l: string[]) => l.map((x) => new TextEncoder().encode(x));
 * const [sentinel] = e("lcc~end~c1~A~1");
 * const d = consistentDecoration(e("hi"), e("A: hi", "A: lcc~end~c1~A~1"), sentinel);
 * console.log(new TextDecoder().decode(d!.prefix)); // "A: "
 * ```
 */
export function consistentDecoration(
  expected: readonly Uint8Array[],
  received: readonly Uint8Array[],
  sentinel: Uint8Array,
): { prefix: Uint8Array; suffix: Uint8Array } | null {
  if (expected.length === 0 || received.length !== expected.length + 1) {
    return null;
  }
  const outer = decoration(sentinel, received[received.length - 1]);
  if (outer === null) return null;
  const wrapped = (line: Uint8Array) => {
    const out = new Uint8Array(
      outer.prefix.length + line.length + outer.suffix.length,
    );
    out.set(outer.prefix);
    out.set(line, outer.prefix.length);
    out.set(outer.suffix, outer.prefix.length + line.length);
    return out;
  };
  return expected.every((line, i) => same(wrapped(line), received[i]))
    ? outer
    : null;
}

/**
 * The first difference between what a client received and what it should
 * have, in one line, and whether the difference is that the server
 * decorated the lines (every differing line is the expected one with bytes
 * added around it).
 *
 * @example
 * ```ts
 * import { lineMismatch } from "./compare.ts";
 * const e = (...l: string[]) => l.map((x) => new TextEncoder().encode(x));
 * console.log(lineMismatch("B", e("hi"), e("A: hi"))?.decorated); // true
 * ```
 */
export function lineMismatch(
  who: string,
  expected: readonly Uint8Array[],
  received: readonly Uint8Array[],
): { message: string; decorated: boolean } | null {
  const message = describeLineMismatch(who, expected, received);
  if (message === null) return null;
  // Decorated: line for line, each differing line wraps the expected one.
  if (expected.length === received.length) {
    const differing = expected.map((line, i) => [line, received[i]] as const)
      .filter(([want, got]) => !same(want, got));
    if (
      differing.length > 0 &&
      differing.every(([want, got]) => decoration(want, got) !== null)
    ) {
      const [want, got] = differing[0];
      return {
        message:
          `${who} received the lines decorated: ${
            describeDecoration(want, got)
          }` +
          (differing.length > 1
            ? ` (and ${differing.length - 1} more lines likewise)`
            : ""),
        decorated: true,
      };
    }
  }
  return { message, decorated: false };
}

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
  if (decoration(expected[i], received[i]) !== null) {
    return `${who} received ${quote(expected[i])} decorated as ${
      quote(received[i])
    } (line ${i + 1} ${of})`;
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
