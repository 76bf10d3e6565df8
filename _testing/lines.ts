// A child process's output as text lines, framed by the project's own
// LineStream rather than a split loop in every test.

import { LineStream } from "../protocol/line_stream.ts";

/** The lines of `stream`, decoded as UTF-8, without terminators. */
export async function* textLines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  for await (
    const line of stream.pipeThrough(
      new LineStream({ maxLineBytes: 16 * 1024 * 1024 }),
    )
  ) {
    yield decoder.decode(line);
  }
}
