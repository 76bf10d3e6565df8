/**
 * The byte-level line framer of the line-chat protocol (PROTOCOL.md §1).
 *
 * A line is the bytes before an LF; one CR right before that LF belongs to
 * the terminator. Everything else, NUL, invalid UTF-8 and a lone CR included,
 * is content. The splitter never decodes text.
 *
 * @module
 */

import { DEFAULT_MAX_LINE_BYTES } from "./limits.ts";
import { LfScanner } from "./_lf_scanner.ts";

const CR = 0x0d;
const EMPTY = new Uint8Array(0);
/** Smallest buffer allocated for a partial line; avoids many tiny regrowths. */
const MIN_PARTIAL_CAPACITY = 256;

/** Options for {@linkcode LineSplitter}. */
export interface LineSplitterOptions {
  /**
   * The longest line accepted, in bytes of content, not counting the LF or
   * CR LF that ends it. A longer line is reported to `onTooLong` and never
   * to `onLine`, in whole or in part.
   *
   * @default {65536}
   */
  maxLineBytes?: number;
}

/**
 * Receives one complete line, without its terminator; `crlf` tells
 * whether that terminator was CR LF (else LF alone).
 *
 * The view is valid until the next call to {@linkcode LineSplitter.push}
 * and only while the caller keeps the pushed chunk unchanged: copy it to
 * keep it longer.
 */
export type LineCallback = (line: Uint8Array, crlf: boolean) => void;

/**
 * Receives one complete line as `bytes[start, end)`, without its
 * terminator: the allocation-free form of {@linkcode LineCallback}, for hot
 * paths. `bytes` is the pushed chunk, or the splitter's buffer for a line
 * that spanned chunks; the same validity rules apply.
 */
export type SpanCallback = (
  bytes: Uint8Array,
  start: number,
  end: number,
  crlf: boolean,
) => void;

/**
 * Splits a byte stream into lines, bounded and binary-safe.
 *
 * Feed it chunks as they arrive; it calls `onLine` for each complete line.
 * Lines wholly inside one chunk are handed out as views of that chunk (no
 * copy); only a line that spans chunks is buffered, and that buffer never
 * grows past `maxLineBytes + 1` (the 1 leaves room for a CR whose LF has not
 * arrived yet). A line over the limit is reported once, as soon as it is
 * known to be too long, and the rest of it is skipped up to its LF. Work is
 * linear in the input however it is segmented.
 *
 * @example Splitting chunks into lines
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { LineSplitter } from "./line_splitter.ts";
 *
 * const splitter = new LineSplitter({ maxLineBytes: 16 });
 * const lines: string[] = [];
 * const onLine = (line: Uint8Array) => lines.push(new TextDecoder().decode(line));
 * const bytes = new TextEncoder().encode("hel");
 * splitter.push(bytes, onLine);
 * splitter.push(new TextEncoder().encode("lo\r\nworld\n\n"), onLine);
 * deepEqual(lines, ["hello", "world", ""]);
 * ```
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  /** Bytes of the current partial line (only `#partial[0, #partialLength)`). */
  #partial: Uint8Array = EMPTY;
  #partialLength = 0;
  /** True while skipping the rest of an over-long line up to its LF. */
  #skipping = false;

  /** Creates a splitter; see {@linkcode LineSplitterOptions}. */
  constructor(options: LineSplitterOptions = {}) {
    const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new RangeError(
        `maxLineBytes must be a non-negative integer, got ${max}`,
      );
    }
    this.#maxLineBytes = max;
  }

  /** The line length limit in force, in bytes. */
  get maxLineBytes(): number {
    return this.#maxLineBytes;
  }

  /** Bytes of an unfinished line held so far (0 while skipping). */
  get pendingBytes(): number {
    return this.#partialLength;
  }

  /**
   * Frames `chunk`, calling `onLine` for each line it completes and
   * `onTooLong` for each line found to exceed the limit.
   */
  push(
    chunk: Uint8Array,
    onLine: LineCallback,
    onTooLong: () => void = () => {},
  ): void {
    this.pushSpans(
      chunk,
      (bytes, start, end, crlf) => onLine(bytes.subarray(start, end), crlf),
      onTooLong,
    );
  }

  /**
   * Like {@linkcode LineSplitter.push}, but hands each line out as a span
   * of a buffer instead of a view, so framing allocates nothing per line.
   *
   * @example
   * ```ts
   * import { deepEqual } from "node:assert/strict";
   * import { LineSplitter } from "./line_splitter.ts";
   *
   * const spans: number[][] = [];
   * new LineSplitter().pushSpans(
   *   new TextEncoder().encode("ab\r\ncde\n"),
   *   (_bytes, start, end, crlf) => spans.push([start, end, crlf ? 1 : 0]),
   * );
   * deepEqual(spans, [[0, 2, 1], [4, 7, 0]]);
   * ```
   */
  pushSpans(
    chunk: Uint8Array,
    onSpan: SpanCallback,
    onTooLong: () => void = () => {},
  ): void {
    const scanner = new LfScanner(chunk);
    let start = 0;
    while (start < chunk.length) {
      const lf = scanner.indexOf(start);
      if (lf === -1) {
        this.#hold(chunk.subarray(start), onTooLong);
        return;
      }
      if (this.#skipping) {
        this.#skipping = false;
      } else if (this.#partialLength === 0) {
        // Fast path: the whole line is inside this chunk.
        const end = lf > start && chunk[lf - 1] === CR ? lf - 1 : lf;
        if (end - start > this.#maxLineBytes) onTooLong();
        else onSpan(chunk, start, end, end !== lf);
      } else {
        this.#completePartial(chunk.subarray(start, lf), onSpan, onTooLong);
      }
      start = lf + 1;
    }
  }

  /**
   * Returns a copy of the unfinished line held so far and forgets it, for a
   * caller that wants to see what an unterminated tail contained.
   */
  takePartial(): Uint8Array {
    const tail = this.#partial.slice(0, this.#partialLength);
    this.#partial = EMPTY;
    this.#partialLength = 0;
    this.#skipping = false;
    return tail;
  }

  /** Ends the partial line with `rest` (the bytes before its LF). */
  #completePartial(
    rest: Uint8Array,
    onSpan: SpanCallback,
    onTooLong: () => void,
  ): void {
    const raw = this.#partialLength + rest.length;
    const last = rest.length > 0
      ? rest[rest.length - 1]
      : this.#partial[this.#partialLength - 1];
    const contentLength = last === CR ? raw - 1 : raw;
    if (contentLength > this.#maxLineBytes) {
      this.takePartial();
      onTooLong();
      return;
    }
    this.#reserve(raw);
    this.#partial.set(rest, this.#partialLength);
    const buffer = this.#partial;
    // Hand the buffer over with the line so the span stays valid until the
    // next push, and so an idle connection holds no buffer at all.
    this.#partial = EMPTY;
    this.#partialLength = 0;
    onSpan(buffer, 0, contentLength, contentLength !== raw);
  }

  /** Buffers the start of a line whose LF has not arrived yet. */
  #hold(bytes: Uint8Array, onTooLong: () => void): void {
    if (this.#skipping) return;
    const length = this.#partialLength + bytes.length;
    const tooLong = length > this.#maxLineBytes + 1 ||
      (length === this.#maxLineBytes + 1 && bytes[bytes.length - 1] !== CR);
    if (tooLong) {
      this.takePartial();
      this.#skipping = true;
      onTooLong();
      return;
    }
    this.#reserve(length);
    this.#partial.set(bytes, this.#partialLength);
    this.#partialLength = length;
  }

  /** Grows the partial buffer geometrically, never past the limit + 1. */
  #reserve(needed: number): void {
    if (needed <= this.#partial.length) return;
    const capacity = Math.min(
      this.#maxLineBytes + 1,
      Math.max(needed, this.#partial.length * 2, MIN_PARTIAL_CAPACITY),
    );
    const grown = new Uint8Array(capacity);
    grown.set(this.#partial.subarray(0, this.#partialLength));
    this.#partial = grown;
  }
}
