/**
 * Shows bytes to people: every byte visible and unambiguous, valid UTF-8
 * readable, invalid UTF-8 as `\xNN`, long lines abbreviated with their
 * length and a hash so two of them can still be told apart.
 *
 * @module
 */

/**
 * Options for {@linkcode escapeBytes}.
 *
 * @example
 * ```ts
 * import { escapeBytes, type EscapeOptions } from "./escape.ts";
 * const options: EscapeOptions = { maxBytes: 8 };
 * console.log(escapeBytes("0123456789", options)); // "012345…89〔10 bytes, fnv1a f9808ff2〕"
 * ```
 */
export interface EscapeOptions {
  /**
   * Lines longer than this many bytes are abbreviated to their first and
   * last bytes, their length and an FNV-1a hash.
   *
   * @default {160}
   */
  maxBytes?: number;
}

const NAMED: Record<number, string> = {
  0x00: "\\0",
  0x09: "\\t",
  0x0a: "\\n",
  0x0d: "\\r",
  0x22: '\\"',
  0x5c: "\\\\",
};

/** Code points shown as `\u{…}` although valid: invisible or confusing. */
function isInvisible(cp: number): boolean {
  return (cp >= 0x80 && cp < 0xa0) || cp === 0xad || cp === 0xfffd ||
    cp === 0xfeff || (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2069);
}

/** Length of the valid UTF-8 sequence at `i`, or 0 if it is not valid. */
function utf8Length(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i];
  let length: number;
  let min: number;
  if (b0 >= 0xc2 && b0 <= 0xdf) [length, min] = [2, 0x80];
  else if (b0 >= 0xe0 && b0 <= 0xef) [length, min] = [3, 0x800];
  else if (b0 >= 0xf0 && b0 <= 0xf4) [length, min] = [4, 0x10000];
  else return 0;
  if (i + length > bytes.length) return 0;
  let cp = b0 & (0xff >> (length + 1));
  for (let k = 1; k < length; k++) {
    const b = bytes[i + k];
    if ((b & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return length;
}

function escapeRange(bytes: Uint8Array, start: number, end: number): string {
  let out = "";
  let i = start;
  while (i < end) {
    const b = bytes[i];
    if (b in NAMED) {
      out += NAMED[b];
      i++;
    } else if (b >= 0x20 && b < 0x7f) {
      out += String.fromCharCode(b);
      i++;
    } else if (b < 0x80) {
      out += `\\x${b.toString(16).padStart(2, "0")}`;
      i++;
    } else {
      const length = utf8Length(bytes, i);
      if (length === 0 || i + length > end) {
        out += `\\x${b.toString(16).padStart(2, "0")}`;
        i++;
        continue;
      }
      const cp = new TextDecoder().decode(bytes.subarray(i, i + length))
        .codePointAt(0)!;
      out += isInvisible(cp) ? `\\u{${cp.toString(16)}}` : String.fromCodePoint(
        cp,
      );
      i += length;
    }
  }
  return out;
}

/**
 * A 32-bit FNV-1a hash of `bytes`, as 8 hex digits.
 *
 * @example
 * ```ts
 * import { fnv1a } from "./escape.ts";
 * console.log(fnv1a(new Uint8Array([]))); // "811c9dc5"
 * ```
 */
export function fnv1a(bytes: Uint8Array): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i];
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, "0");
}

/**
 * Escapes bytes for display inside double quotes: printable ASCII as is;
 * `\\`, `\"`, `\0`, `\t`, `\r`, `\n` named; other control bytes and
 * invalid UTF-8 as `\xNN`; valid UTF-8 as its characters, except invisible
 * or confusing ones (U+FFFD, zero-width, bidi controls) as `\u{…}`. Longer
 * than `maxBytes`, the middle is cut and the total length and a hash added.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { escapeBytes } from "./escape.ts";
 *
 * const bytes = new Uint8Array([0x61, 0x0d, 0x00, 0xff, 0xc3, 0xa9]);
 * equal(escapeBytes(bytes), "a\\r\\0\\xffé");
 * ```
 */
export function escapeBytes(
  bytes: Uint8Array | string,
  options: EscapeOptions = {},
): string {
  const data = typeof bytes === "string"
    ? new TextEncoder().encode(bytes)
    : bytes;
  const max = options.maxBytes ?? 160;
  if (data.length <= max) return escapeRange(data, 0, data.length);
  const head = Math.max(1, Math.floor(max * 0.75));
  const tail = Math.max(1, max - head);
  return `${escapeRange(data, 0, head)}…${
    escapeRange(data, data.length - tail, data.length)
  }〔${data.length} bytes, fnv1a ${fnv1a(data)}〕`;
}

/**
 * Escapes a list of lines; see {@linkcode escapeBytes}.
 *
 * @example
 * ```ts
 * import { escapeLines } from "./escape.ts";
 * console.log(escapeLines(["a\tb", new Uint8Array([0])])); // [ "a\\tb", "\\0" ]
 * ```
 */
export function escapeLines(
  lines: Iterable<Uint8Array | string | { bytes: Uint8Array }>,
  options: EscapeOptions = {},
): string[] {
  const out: string[] = [];
  for (const line of lines) {
    out.push(
      escapeBytes(
        typeof line === "string" || line instanceof Uint8Array
          ? line
          : line.bytes,
        options,
      ),
    );
  }
  return out;
}

/**
 * Escapes a program's own output (a spawned server's stdout and stderr)
 * for display: text as it is, line breaks (LF, CR LF as LF) and tabs kept,
 * every other control character (ESC, a lone CR, BEL, …) and invisible or
 * confusing one shown as `\xNN` or `\u{…}`, so no report carries raw
 * terminal escapes.
 *
 * @example
 * ```ts
 * import { escapeOutput } from "./escape.ts";
 * console.log(escapeOutput("\x1b[2Jboom\r\n") === "\\x1b[2Jboom\n"); // true
 * ```
 */
export function escapeOutput(text: string): string {
  let out = "";
  const chars = [...text];
  for (const [i, ch] of chars.entries()) {
    const cp = ch.codePointAt(0)!;
    if (ch === "\r" && chars[i + 1] === "\n") continue;
    if (ch === "\n" || ch === "\t") out += ch;
    else if (cp < 0x20 || cp === 0x7f) {
      out += `\\x${cp.toString(16).padStart(2, "0")}`;
    } else if (isInvisible(cp)) out += `\\u{${cp.toString(16)}}`;
    else out += ch;
  }
  return out;
}
