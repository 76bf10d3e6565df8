/**
 * The harness's own lines in a room full of hostile traffic: every line it
 * needs to find starts with `p` (the flood is `f` lines, tiny lines are
 * `t` lines), so a reader finds them with a native `indexOf` over each read
 * and never frames the flood around them. That keeps a reader fast enough
 * to take megabytes per second on a thread shared with 50 others.
 *
 * @module
 */

/**
 * The first byte of every marked line.
 *
 * @example
 * ```ts
 * import { MARK } from "./marked_lines.ts";
 * console.log(String.fromCharCode(MARK)); // "p"
 * ```
 */
export const MARK = 0x70; // "p"
const LF = 0x0a;
const CR = 0x0d;
/** A marked line longer than this is not one of ours: it is skipped. */
const MAX_MARKED_BYTES = 4096;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encodes a marked line: `p`, a kind letter, and `.`-separated fields,
 * ended with LF.
 *
 * @example
 * ```ts
 * import { markedLine } from "./marked_lines.ts";
 * console.log(new TextDecoder().decode(markedLine("c", ["k3f9", 2, 17, 1250500])));
 * // "pck3f9.2.17.1250500\n"
 * ```
 */
export function markedLine(
  kind: string,
  fields: readonly (string | number)[],
): Uint8Array {
  return encoder.encode(`p${kind}${fields.join(".")}\n`);
}

/** A marked line found by {@linkcode MarkedLineScanner}. */
export interface MarkedLine {
  /** The kind letter (the byte after `p`). */
  kind: string;
  /** The fields, as text. */
  fields: string[];
}

/**
 * Parses the text of a marked line (without its terminator).
 *
 * @example
 * ```ts
 * import { parseMarkedLine } from "./marked_lines.ts";
 * console.log(parseMarkedLine("pck3f9.2.17")); // { kind: "c", fields: ["k3f9", "2", "17"] }
 * ```
 */
export function parseMarkedLine(text: string): MarkedLine | undefined {
  if (text.length < 2 || text.charCodeAt(0) !== MARK) return undefined;
  return { kind: text[1], fields: text.slice(2).split(".") };
}

/**
 * Finds marked lines in a byte stream pushed in reads of any size. Bytes
 * of other lines are only skipped; a marked line split across reads is
 * put together (at most 4 KiB of it is kept). A `p` counts only at the
 * start of a line.
 *
 * @example
 * ```ts
 * import { MarkedLineScanner } from "./marked_lines.ts";
 * const found: string[] = [];
 * const scanner = new MarkedLineScanner((line) => found.push(line.fields.join(",")));
 * const bytes = new TextEncoder().encode("f\r\nf\r\npca.1\r\nfpx\r\npc");
 * scanner.push(bytes);
 * scanner.push(new TextEncoder().encode("b.2\r\n"));
 * console.log(found); // ["a,1", "b,2"]
 * ```
 */
export class MarkedLineScanner {
  readonly #onLine: (line: MarkedLine) => void;
  /** The start of a marked line whose LF has not arrived yet. */
  #carry: Uint8Array | undefined;
  /** The last byte pushed was an LF (or nothing was pushed yet). */
  #atLineStart = true;
  /** Marked-looking lines that were too long to be ours. */
  skipped = 0;

  /** Creates a scanner that calls `onLine` for every marked line. */
  constructor(onLine: (line: MarkedLine) => void) {
    this.#onLine = onLine;
  }

  /** Scans one read. The chunk may be reused by the caller afterwards. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    let i = 0;
    if (this.#carry !== undefined) {
      const lf = chunk.indexOf(LF);
      if (lf === -1) {
        this.#extendCarry(chunk);
        this.#atLineStart = false;
        return;
      }
      const carry = this.#carry;
      this.#carry = undefined;
      if (carry.length + lf <= MAX_MARKED_BYTES) {
        const line = new Uint8Array(carry.length + lf);
        line.set(carry);
        line.set(chunk.subarray(0, lf), carry.length);
        this.#emit(line, 0, line.length);
      } else {
        this.skipped++;
      }
      i = lf + 1;
    }
    while (i < chunk.length) {
      const p = chunk.indexOf(MARK, i);
      if (p === -1) break;
      const atStart = p === 0 ? this.#atLineStart : chunk[p - 1] === LF;
      if (!atStart) {
        i = p + 1;
        continue;
      }
      const lf = chunk.indexOf(LF, p);
      if (lf === -1) {
        this.#carry = undefined;
        this.#extendCarry(chunk.subarray(p));
        break;
      }
      this.#emit(chunk, p, lf);
      i = lf + 1;
    }
    this.#atLineStart = chunk[chunk.length - 1] === LF;
  }

  #extendCarry(bytes: Uint8Array): void {
    const old = this.#carry ?? new Uint8Array(0);
    if (old.length > MAX_MARKED_BYTES) return; // keep skipping to the LF
    const next = new Uint8Array(old.length + bytes.length);
    next.set(old);
    next.set(bytes, old.length);
    this.#carry = next;
  }

  #emit(bytes: Uint8Array, start: number, end: number): void {
    if (end > start && bytes[end - 1] === CR) end--;
    if (end - start > MAX_MARKED_BYTES) {
      this.skipped++;
      return;
    }
    const line = parseMarkedLine(decoder.decode(bytes.subarray(start, end)));
    if (line !== undefined) this.#onLine(line);
  }
}
