/**
 * Byte utilities the harness and its cases share: comparing byte arrays,
 * building them from text and numbers, and lines with their terminators.
 * (How bytes are shown to people is `escape.ts`.)
 *
 * @module
 */

const encoder = new TextEncoder();
const LF = 0x0a;

/**
 * UTF-8 bytes of `text`.
 *
 * @example
 * ```ts
 * import { utf8 } from "./bytes.ts";
 * console.log(utf8("é").length); // 2
 * ```
 */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * `data` as bytes: a string as UTF-8, bytes as they are.
 *
 * @example
 * ```ts
 * import { toBytes } from "./bytes.ts";
 * console.log(toBytes("hi").length, toBytes(new Uint8Array([1])).length); // 2 1
 * ```
 */
export function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

/**
 * Bytes from numbers, number arrays, strings (as UTF-8) and byte arrays,
 * one after another.
 *
 * @example
 * ```ts
 * import { bytes } from "./bytes.ts";
 * console.log(bytes("a", 0x0d, [0x0a], new Uint8Array([0]))); // Uint8Array(4) [ 97, 13, 10, 0 ]
 * ```
 */
export function bytes(
  ...parts: (number | number[] | string | Uint8Array)[]
): Uint8Array {
  const chunks = parts.map((part) =>
    typeof part === "number"
      ? new Uint8Array([part])
      : typeof part === "string"
      ? encoder.encode(part)
      : part instanceof Uint8Array
      ? part
      : new Uint8Array(part)
  );
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/**
 * `a` followed by `b`, in a new array.
 *
 * @example
 * ```ts
 * import { concat } from "./bytes.ts";
 * console.log(concat(new Uint8Array([1]), new Uint8Array([2]))); // Uint8Array(2) [ 1, 2 ]
 * ```
 */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * `lines`, each followed by `terminator` (LF unless told), as one buffer:
 * what a client writes to send them in one write.
 *
 * @example
 * ```ts
 * import { joinLines } from "./bytes.ts";
 * console.log(new TextDecoder().decode(joinLines(["a", "b"], "\r\n"))); // "a\r\nb\r\n"
 * ```
 */
export function joinLines(
  lines: readonly (string | Uint8Array)[],
  terminator: string = "\n",
): Uint8Array {
  if (terminator !== "\n") {
    return bytes(...lines.flatMap((line) => [line, terminator]));
  }
  const parts = lines.map(toBytes);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
    out[offset++] = LF;
  }
  return out;
}

/**
 * Whether `data` begins with `prefix`.
 *
 * @example
 * ```ts
 * import { startsWith } from "./bytes.ts";
 * console.log(startsWith(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2]))); // true
 * ```
 */
export function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  if (data.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (data[i] !== prefix[i]) return false;
  }
  return true;
}

/**
 * Whether `data` ends with `suffix`.
 *
 * @example
 * ```ts
 * import { endsWith } from "./bytes.ts";
 * console.log(endsWith(new Uint8Array([1, 2, 3]), new Uint8Array([2, 3]))); // true
 * ```
 */
export function endsWith(data: Uint8Array, suffix: Uint8Array): boolean {
  if (data.length < suffix.length) return false;
  const offset = data.length - suffix.length;
  for (let i = 0; i < suffix.length; i++) {
    if (data[offset + i] !== suffix[i]) return false;
  }
  return true;
}

/**
 * Whether two byte arrays are equal.
 *
 * @example
 * ```ts
 * import { bytesEqual } from "./bytes.ts";
 * console.log(bytesEqual(new Uint8Array([1]), new Uint8Array([1]))); // true
 * ```
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && startsWith(a, b);
}

/**
 * Where `needle` first occurs in `data`, or -1 (an empty needle is at 0).
 *
 * @example
 * ```ts
 * import { indexOfBytes, utf8 } from "./bytes.ts";
 * console.log(indexOfBytes(utf8("ADDR: hello"), utf8("hello"))); // 6
 * ```
 */
export function indexOfBytes(data: Uint8Array, needle: Uint8Array): number {
  if (needle.length === 0) return 0;
  const first = needle[0];
  const last = data.length - needle.length;
  for (let i = data.indexOf(first); i !== -1 && i <= last;) {
    let k = 1;
    while (k < needle.length && data[i + k] === needle[k]) k++;
    if (k === needle.length) return i;
    i = data.indexOf(first, i + 1);
  }
  return -1;
}
