/**
 * `deno bench`: the protocol's framer ({@linkcode LineSplitter}) against a
 * naive string-based splitter, on many small lines and on one huge line
 * arriving in pieces. The naive splitter is the baseline of each group.
 *
 * @module
 */

import { LineSplitter } from "./line_splitter.ts";

const encoder = new TextEncoder();

/**
 * The obvious way to split a byte stream into lines: decode to text,
 * append, split on LF, keep the tail. Not binary-safe (invalid UTF-8
 * becomes U+FFFD), unbounded, and for a line arriving in many chunks it
 * searches the growing tail again on every chunk.
 */
class NaiveSplitter {
  #decoder = new TextDecoder();
  #tail = "";

  push(chunk: Uint8Array, onLine: (line: string) => void): void {
    const text = this.#tail + this.#decoder.decode(chunk, { stream: true });
    const parts = text.split("\n");
    this.#tail = parts.pop()!;
    for (const part of parts) {
      onLine(part.endsWith("\r") ? part.slice(0, -1) : part);
    }
  }
}

/** `bytes` cut into chunks of `size` (lines straddle chunk boundaries). */
function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) {
    chunks.push(bytes.slice(i, i + size));
  }
  return chunks;
}

// 1 MiB of 64-byte lines ending in CR LF, as a server sends them, read in
// 16 KiB chunks.
const smallLine = "x".repeat(62) + "\r\n";
const SMALL = chunked(
  encoder.encode(smallLine.repeat((1024 * 1024) / smallLine.length)),
  16 * 1024,
);
const SMALL_LINES = (1024 * 1024) / smallLine.length;

// One 4 MiB line in 16 KiB chunks, then its LF.
const HUGE = chunked(
  encoder.encode("y".repeat(4 * 1024 * 1024) + "\n"),
  16 * 1024,
);

let sink = 0;
const countBytes = (line: Uint8Array | string) => {
  sink += line.length;
};
const countSpan = (_bytes: Uint8Array, start: number, end: number) => {
  sink += end - start;
};

Deno.bench({
  name: "naive string splitter",
  group: `${SMALL_LINES} lines of 64 bytes (1 MiB in 16 KiB reads)`,
  baseline: true,
  fn() {
    const splitter = new NaiveSplitter();
    for (const chunk of SMALL) splitter.push(chunk, countBytes);
  },
});

Deno.bench({
  name: "LineSplitter",
  group: `${SMALL_LINES} lines of 64 bytes (1 MiB in 16 KiB reads)`,
  fn() {
    const splitter = new LineSplitter();
    for (const chunk of SMALL) splitter.push(chunk, countBytes);
  },
});

Deno.bench({
  name: "LineSplitter.pushSpans (no view per line)",
  group: `${SMALL_LINES} lines of 64 bytes (1 MiB in 16 KiB reads)`,
  fn() {
    const splitter = new LineSplitter();
    for (const chunk of SMALL) splitter.pushSpans(chunk, countSpan);
  },
});

Deno.bench({
  name: "naive string splitter",
  group: "one 4 MiB line in 16 KiB reads",
  baseline: true,
  fn() {
    const splitter = new NaiveSplitter();
    for (const chunk of HUGE) splitter.push(chunk, countBytes);
  },
});

Deno.bench({
  name: "LineSplitter (limit 8 MiB)",
  group: "one 4 MiB line in 16 KiB reads",
  fn() {
    const splitter = new LineSplitter({ maxLineBytes: 8 * 1024 * 1024 });
    for (const chunk of HUGE) splitter.push(chunk, countBytes);
  },
});

Deno.bench({
  name: "LineSplitter (limit 64 KiB: skips it)",
  group: "one 4 MiB line in 16 KiB reads",
  fn() {
    const splitter = new LineSplitter({ maxLineBytes: 64 * 1024 });
    for (const chunk of HUGE) splitter.push(chunk, countBytes);
  },
});

globalThis.addEventListener("unload", () => {
  if (sink < 0) console.log(sink); // keeps the work observable
});
