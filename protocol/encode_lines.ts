/**
 * The server's output encoding: each line followed by CR LF (PROTOCOL.md §2).
 *
 * @module
 */

/** The terminator a line-chat server puts after every line it sends. */
export const CRLF: Uint8Array = new Uint8Array([0x0d, 0x0a]);

/**
 * Encodes lines (without terminators) into one buffer, each followed by
 * CR LF, with a single allocation. The result may be shared by every
 * recipient of the batch.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { encodeLines } from "./encode_lines.ts";
 *
 * const text = (s: string) => new TextEncoder().encode(s);
 * deepEqual(encodeLines([text("a"), text("")]), text("a\r\n\r\n"));
 * ```
 */
export function encodeLines(lines: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const line of lines) size += line.length + 2;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const line of lines) {
    out.set(line, offset);
    offset += line.length;
    out[offset++] = 0x0d;
    out[offset++] = 0x0a;
  }
  return out;
}
