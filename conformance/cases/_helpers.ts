// Small helpers shared by the case files.

import type { CaseContext } from "../context.ts";
import type { Peer, Writer } from "../peer.ts";

const encoder = new TextEncoder();

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Bytes from numbers and strings (strings as UTF-8). */
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

/** `lines` each followed by LF, as one buffer. */
export function joinLines(
  lines: readonly (string | Uint8Array)[],
  terminator = "\n",
): Uint8Array {
  return bytes(...lines.flatMap((line) => [line, terminator]));
}

/**
 * Printable ASCII of `length` bytes that differs from line to line
 * (`seed`), so reordered or mixed-up lines show.
 */
export function filler(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = 0x21 + ((x >>> 0) % 94);
  }
  return out;
}

/**
 * Writes `pieces` from `writer` as separate segments, with a tick through
 * the server (`tickFrom` → `tickTo`) between them so the server reads each
 * piece on its own.
 */
export async function writePaced(
  ctx: CaseContext,
  writer: Writer,
  pieces: readonly (string | Uint8Array)[],
  tickFrom: Writer,
  tickTo: Peer,
): Promise<void> {
  for (const [i, piece] of pieces.entries()) {
    await writer.write(piece);
    if (i < pieces.length - 1) await ctx.tick(tickFrom, tickTo);
  }
}

/** Splits `data` into pieces of `size` bytes. */
export function chunk(data: Uint8Array, size: number): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) {
    pieces.push(data.subarray(i, i + size));
  }
  return pieces;
}

/** Formats a byte count for messages. */
export function size(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) {
    return `${n / 1024 / 1024} MiB`;
  }
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/** Formats bytes as MiB with one decimal. */
export function mib(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
