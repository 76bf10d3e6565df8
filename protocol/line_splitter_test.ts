import { deepEqual, fail, ok } from "node:assert/strict";
import { seededRandom } from "../_testing/random.ts";
import { LineSplitter } from "./line_splitter.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

interface Framed {
  lines: Uint8Array[];
  crlf: boolean[];
  tooLong: number;
}

/** Feeds `chunks` into one splitter and records every outcome, copied. */
function frame(chunks: Uint8Array[], maxLineBytes = 64): Framed {
  const splitter = new LineSplitter({ maxLineBytes });
  const out: Framed = { lines: [], crlf: [], tooLong: 0 };
  for (const chunk of chunks) {
    splitter.push(chunk, (line, crlf) => {
      out.lines.push(line.slice());
      out.crlf.push(crlf);
    }, () => out.tooLong++);
  }
  return out;
}

/** {@linkcode frame} through `pushSpans`. */
function frameSpans(chunks: Uint8Array[], maxLineBytes = 64): Framed {
  const splitter = new LineSplitter({ maxLineBytes });
  const out: Framed = { lines: [], crlf: [], tooLong: 0 };
  for (const chunk of chunks) {
    splitter.pushSpans(chunk, (buffer, start, end, crlf) => {
      out.lines.push(buffer.slice(start, end));
      out.crlf.push(crlf);
    }, () => out.tooLong++);
  }
  return out;
}

/** The protocol's framing rules written the slow, obvious way. */
function reference(input: Uint8Array, max: number): Framed {
  const out: Framed = { lines: [], crlf: [], tooLong: 0 };
  let start = 0;
  for (let i = 0; i < input.length; i++) {
    if (input[i] !== 0x0a) continue;
    let end = i;
    const crlf = end > start && input[end - 1] === 0x0d;
    if (crlf) end--;
    if (end - start > max) out.tooLong++;
    else {
      out.lines.push(input.slice(start, end));
      out.crlf.push(crlf);
    }
    start = i + 1;
  }
  // An unterminated tail over the limit is reported as soon as it is seen.
  const tail = input.length - start;
  if (tail > max + 1 || (tail === max + 1 && input.at(-1) !== 0x0d)) {
    out.tooLong++;
  }
  return out;
}

function split(input: Uint8Array, cuts: number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let previous = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    chunks.push(input.subarray(previous, cut));
    previous = cut;
  }
  chunks.push(input.subarray(previous));
  return chunks;
}

Deno.test("§1.1 a line is the bytes before LF; CR before LF is the terminator", () => {
  const out = frame([bytes("one\ntwo\r\nthree\n")]);
  deepEqual(out.lines, [bytes("one"), bytes("two"), bytes("three")]);
  deepEqual(out.crlf, [false, true, false]);
});

Deno.test("§1.3 NUL, invalid UTF-8, lone CR, tabs and spaces are content", () => {
  const line = latin1("\x00a\xff\xfe\rb \t ");
  const out = frame([latin1("\x00a\xff\xfe\rb \t \r\n")]);
  deepEqual(out.lines, [line]);
  deepEqual(frame([latin1("\r\r\n")]).lines, [latin1("\r")]);
  deepEqual(frame([latin1("a\rb\n")]).lines, [latin1("a\rb")]);
});

Deno.test("§1.4 CR LF split across chunks is still one terminator", () => {
  const out = frame([bytes("abc\r"), bytes("\ndef\r"), bytes("\n")]);
  deepEqual(out.lines, [bytes("abc"), bytes("def")]);
  deepEqual(out.crlf, [true, true]);
});

Deno.test("§1.4 a line fed byte by byte equals the line fed whole", () => {
  const input = bytes("hello, world\r\n\nlast\n");
  const chunks = [...input].map((b) => Uint8Array.of(b));
  deepEqual(frame(chunks), frame([input]));
});

Deno.test("§1.4 any segmentation yields the same lines (randomized)", () => {
  const random = seededRandom(0x2545f491);
  const alphabet = [0x0a, 0x0d, 0x00, 0x61, 0x62, 0xff, 0x20];
  for (let round = 0; round < 400; round++) {
    const max = random(12);
    const input = Uint8Array.from(
      { length: random(80) },
      () => alphabet[random(alphabet.length)],
    );
    const cuts = Array.from(
      { length: random(10) },
      () => random(input.length + 1),
    );
    const expected = reference(input, max);
    const actual = frame(split(input, cuts), max);
    ok(
      deepEqual.length >= 0 &&
        JSON.stringify(actual) === JSON.stringify(expected),
      `round ${round}: input ${[...input]} cuts ${cuts} max ${max}\n` +
        `expected ${JSON.stringify(expected)}\nactual ${
          JSON.stringify(actual)
        }`,
    );
  }
});

Deno.test("§1.4 long lines (past the short scan) in any segmentation, views and spans alike (randomized)", () => {
  const random = seededRandom(0x1b873593);
  for (let round = 0; round < 200; round++) {
    const max = 100 + random(400);
    const parts: number[] = [];
    for (let line = random(8); line >= 0; line--) {
      // Lengths around the 128-byte short scan and the limit.
      for (let i = random(600); i > 0; i--) {
        parts.push(random(4) === 0 ? 0x0d : 0x61 + random(26));
      }
      if (random(2) === 0) parts.push(0x0d);
      parts.push(0x0a);
    }
    for (let i = random(300); i > 0; i--) parts.push(0x62); // a tail
    const input = Uint8Array.from(parts);
    const cuts = Array.from(
      { length: random(6) },
      () => random(input.length + 1),
    );
    const expected = JSON.stringify(reference(input, max));
    const chunks = split(input, cuts);
    const context =
      `round ${round}: ${input.length} bytes, cuts ${cuts}, max ${max}`;
    ok(JSON.stringify(frame(chunks, max)) === expected, `push: ${context}`);
    ok(
      JSON.stringify(frameSpans(chunks, max)) === expected,
      `pushSpans: ${context}`,
    );
  }
});

Deno.test("§1.5 empty lines are lines", () => {
  const out = frame([bytes("\n\r\n\n")]);
  deepEqual(out.lines, [bytes(""), bytes(""), bytes("")]);
});

Deno.test("§1.6 an unterminated tail is held, not emitted, and can be taken", () => {
  const splitter = new LineSplitter();
  const lines: Uint8Array[] = [];
  splitter.push(bytes("a\npartial"), (line) => lines.push(line.slice()));
  deepEqual(lines, [bytes("a")]);
  deepEqual(splitter.pendingBytes, 7);
  deepEqual(splitter.takePartial(), bytes("partial"));
  deepEqual(splitter.pendingBytes, 0);
});

Deno.test("§4.1 a line of exactly maxLineBytes passes, with LF or CR LF", () => {
  const line = "x".repeat(16);
  for (const terminator of ["\n", "\r\n"]) {
    const whole = frame([bytes(line + terminator)], 16);
    deepEqual(whole.lines, [bytes(line)]);
    const bytewise = frame(
      [...bytes(line + terminator)].map((b) => Uint8Array.of(b)),
      16,
    );
    deepEqual(bytewise.lines, [bytes(line)]);
    deepEqual(bytewise.tooLong, 0);
  }
});

Deno.test("§4.2 a line one byte over is reported once and never emitted", () => {
  const input = bytes("x".repeat(17) + "\nnext\n");
  for (const chunks of [[input], [...input].map((b) => Uint8Array.of(b))]) {
    const out = frame(chunks, 16);
    deepEqual(out.tooLong, 1);
    deepEqual(out.lines, [bytes("next")]);
  }
});

Deno.test("§4.5 buffering stays within maxLineBytes + 1 for a huge line in tiny chunks", () => {
  const splitter = new LineSplitter({ maxLineBytes: 1000 });
  let tooLong = 0;
  let peak = 0;
  const chunk = bytes("yyy");
  for (let i = 0; i < 100_000; i++) {
    splitter.push(
      chunk,
      () => fail("nothing of it is a line"),
      () => tooLong++,
    );
    peak = Math.max(peak, splitter.pendingBytes);
  }
  deepEqual(tooLong, 1);
  ok(peak <= 1001, `peak ${peak}`);
  const after: string[] = [];
  splitter.push(
    bytes("yy\nok\n"),
    (line) => after.push(new TextDecoder().decode(line)),
  );
  deepEqual(after, ["ok"]);
});

Deno.test("a 4 MiB line arriving a byte at a time is framed whole (linear growth)", () => {
  const size = 4 * 1024 * 1024;
  const splitter = new LineSplitter({ maxLineBytes: size });
  const one = Uint8Array.of(0x61);
  for (let i = 0; i < size; i++) {
    splitter.push(one, () => fail("early line"));
  }
  let length = -1;
  splitter.push(bytes("\n"), (line) => length = line.length);
  deepEqual(length, size);
});

Deno.test("line views stay valid until the next push, even when a tail follows", () => {
  const splitter = new LineSplitter();
  const views: Uint8Array[] = [];
  splitter.push(bytes("first-"), (line) => views.push(line));
  splitter.push(
    bytes("half\nsecond\ntail-that-reuses-buffers"),
    (line) => views.push(line),
  );
  deepEqual(views.map((v) => new TextDecoder().decode(v)), [
    "first-half",
    "second",
  ]);
});

Deno.test("maxLineBytes must be a non-negative integer", () => {
  for (const bad of [-1, 1.5, Number.NaN]) {
    let threw = false;
    try {
      new LineSplitter({ maxLineBytes: bad });
    } catch (error) {
      threw = error instanceof RangeError;
    }
    ok(threw, `maxLineBytes ${bad} accepted`);
  }
});
