/**
 * A `TransformStream` of byte chunks into lines, built on
 * {@linkcode LineSplitter}; the bounded, binary-safe replacement for
 * `TextLineStream`.
 *
 * @module
 */

import { LineSplitter } from "./line_splitter.ts";
import { DEFAULT_MAX_LINE_BYTES } from "./limits.ts";

/** Raised (as the stream's error) when a line exceeds the limit. */
export class LineTooLongError extends Error {
  /** The limit that was exceeded, in bytes. */
  readonly maxLineBytes: number;

  /** Creates the error for a limit of `maxLineBytes`. */
  constructor(maxLineBytes: number) {
    super(`line longer than ${maxLineBytes} bytes`);
    this.name = "LineTooLongError";
    this.maxLineBytes = maxLineBytes;
  }
}

/** Options for {@linkcode LineStream}. */
export interface LineStreamOptions {
  /**
   * The longest line accepted, in bytes of content.
   *
   * @default {65536}
   */
  maxLineBytes?: number;
  /**
   * What to do with a line over the limit: `"error"` errors the stream
   * with a {@linkcode LineTooLongError}; `"skip"` drops that line and goes
   * on with the next.
   *
   * @default {"error"}
   */
  onTooLong?: "error" | "skip";
  /**
   * Whether an unterminated tail at the end of the input is emitted as a
   * last line. The protocol discards it, hence the default.
   *
   * @default {false}
   */
  emitPartial?: boolean;
}

/**
 * Transforms a stream of byte chunks into a stream of lines, each a fresh
 * `Uint8Array` without its LF or CR LF terminator.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { LineStream } from "./line_stream.ts";
 *
 * const input = ReadableStream.from([new TextEncoder().encode("a\r\nb\nc")]);
 * const lines = await Array.fromAsync(
 *   input.pipeThrough(new LineStream()),
 *   (line) => new TextDecoder().decode(line),
 * );
 * deepEqual(lines, ["a", "b"]);
 * ```
 */
export class LineStream extends TransformStream<Uint8Array, Uint8Array> {
  /** Creates the stream; see {@linkcode LineStreamOptions}. */
  constructor(options: LineStreamOptions = {}) {
    const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    const splitter = new LineSplitter({ maxLineBytes });
    const policy = options.onTooLong ?? "error";
    super({
      transform(chunk, controller) {
        let failed = false;
        splitter.push(
          chunk,
          (line) => {
            if (!failed) controller.enqueue(line.slice());
          },
          () => {
            if (policy === "error" && !failed) {
              failed = true;
              controller.error(new LineTooLongError(maxLineBytes));
            }
          },
        );
      },
      flush(controller) {
        const tail = splitter.takePartial();
        if (options.emitPartial && tail.length > 0) controller.enqueue(tail);
      },
    });
  }
}
