/**
 * Framing cases (PROTOCOL.md §1): what a line is, however it is terminated
 * and however the bytes are segmented, and that its bytes are relayed
 * untouched.
 *
 * @module
 */

import { bytes, joinLines, utf8 } from "../bytes.ts";
import type { CaseContext, CaseDefinition } from "../case.ts";
import { chunk, filler, size, writePaced } from "./_helpers.ts";

/**
 * A writes `pieces` (each its own segment, with a tick through the server
 * between them when `paced`), then a sentinel; B must receive exactly
 * `expected` before the sentinel.
 */
async function relayPieces(
  ctx: CaseContext,
  pieces: readonly (string | Uint8Array)[],
  expected: readonly (string | Uint8Array)[],
  paced: boolean,
): Promise<void> {
  const [a, b] = await ctx.room(["A", "B"]);
  if (paced) {
    // B sends the ticks and A reads them: B's own stream stays clean.
    await writePaced(ctx, a, pieces, b, a);
  } else {
    for (const piece of pieces) await a.write(piece);
  }
  await ctx.expectLines(b, expected, await ctx.sentinel(a));
}

const WHITESPACE = [
  "  two leading spaces",
  "two trailing spaces  ",
  "\ttabs\taround\t",
  " ",
  "\t \t",
  "   spaced   out   ",
  "\x0b vertical tab and form feed \x0c",
];

const UTF8 = [
  "héllo wörld",
  "日本語のテキスト",
  "emoji 😀 👍🏽 🇫🇷",
  "combining e\u0301 and zero\u200bwidth",
  "Ελληνικά и кириллица",
];

const INVALID_UTF8 = [
  bytes(0xff),
  bytes("truncated ", 0xc3),
  bytes("lone continuation ", 0x80, 0xbf),
  bytes("surrogate ", 0xed, 0xa0, 0x80),
  bytes("overlong slash ", 0xc0, 0xaf),
  bytes("abc", 0xfe, 0xff, "def"),
  bytes(0xf5, 0x80, 0x80, 0x80, " beyond U+10FFFF"),
];

const NUL = [
  bytes(0),
  bytes("a", 0, "b"),
  bytes(0, 0, 0, " nul at both ends ", 0),
];

/** Every byte but LF, in order (the CR is followed by 0x0E, so content). */
function allBytes(): Uint8Array {
  const out: number[] = [];
  for (let b = 0; b < 256; b++) if (b !== 0x0a) out.push(b);
  return new Uint8Array(out);
}

/**
 * The framing cases.
 *
 * @example
 * ```ts
 * import { FRAMING_CASES } from "./framing.ts";
 * console.log(FRAMING_CASES.map((c) => c.id));
 * ```
 */
export const FRAMING_CASES: CaseDefinition[] = [
  {
    id: "framing.lf",
    clause: "§1.2",
    level: "MUST",
    requirement: "Lines ended by LF alone are accepted",
    run: (ctx) => relayPieces(ctx, ["one\ntwo\n"], ["one", "two"], false),
  },
  {
    id: "framing.crlf",
    clause: "§1.1",
    level: "MUST",
    requirement: "A CR right before LF belongs to the terminator, not the line",
    run: (ctx) => relayPieces(ctx, ["one\r\ntwo\r\n"], ["one", "two"], false),
  },
  {
    id: "framing.mixed-terminators",
    clause: "§1.2",
    level: "MUST",
    requirement: "LF and CR LF may be mixed freely on one connection",
    run: (ctx) =>
      relayPieces(
        ctx,
        ["lf\ncrlf\r\nlf again\ncrlf again\r\n"],
        ["lf", "crlf", "lf again", "crlf again"],
        false,
      ),
  },
  {
    id: "framing.many-lines-one-segment",
    clause: "§1.4",
    level: "MUST",
    requirement:
      "One segment carrying many lines yields each of them, in order",
    run: (ctx) => {
      const lines = Array.from(
        { length: 100 },
        (_, i) => `line ${i + 1} of 100 in one write`,
      );
      return relayPieces(ctx, [joinLines(lines)], lines, false);
    },
  },
  {
    id: "framing.split-segments",
    clause: "§1.4",
    level: "MUST",
    requirement: "A line that arrives in many segments is one line",
    run: (ctx) => {
      const line = filler(1024, 7);
      return relayPieces(ctx, chunk(bytes(line, "\n"), 64), [line], true);
    },
  },
  {
    id: "framing.byte-by-byte",
    clause: "§1.4",
    level: "MUST",
    requirement: "A line sent one byte per segment is one line",
    run: (ctx) => {
      const data = utf8("byte by byte, CR LF\r\nand LF é\n");
      return relayPieces(ctx, chunk(data, 1), [
        "byte by byte, CR LF",
        "and LF é",
      ], true);
    },
  },
  {
    id: "framing.crlf-split",
    clause: "§1.4",
    level: "MUST",
    requirement: "A CR LF split between segments is still one terminator",
    run: (ctx) =>
      relayPieces(ctx, ["alpha\r", "\nbeta\r", "\ngamma\n"], [
        "alpha",
        "beta",
        "gamma",
      ], true),
  },
  {
    id: "framing.lines-and-parts",
    clause: "§1.4",
    level: "MUST",
    requirement:
      "Segments holding the end of one line and the start of the next frame the same lines",
    run: (ctx) =>
      relayPieces(
        ctx,
        ["one\ntw", "o\nthr", "ee\nfour\nfi", "ve\n"],
        ["one", "two", "three", "four", "five"],
        true,
      ),
  },
  {
    id: "framing.empty-line",
    clause: "§2.8",
    level: "MUST",
    requirement:
      "Each empty line (LF or CR LF alone) is relayed as exactly one empty line",
    run: (ctx) =>
      relayPieces(
        ctx,
        ["before\n\nafter-lf\r\n\r\nafter-crlf\n\n\nafter-two\r\n\n\r\nend\n"],
        [
          "before",
          "",
          "after-lf",
          "",
          "after-crlf",
          "",
          "",
          "after-two",
          "",
          "",
          "end",
        ],
        false,
      ),
  },
  {
    id: "framing.whitespace",
    clause: "§1.3",
    level: "MUST",
    requirement:
      "Leading and trailing spaces, tabs and other whitespace are kept",
    run: (ctx) => relayPieces(ctx, [joinLines(WHITESPACE)], WHITESPACE, false),
  },
  {
    id: "framing.utf8",
    clause: "§1.3",
    level: "MUST",
    requirement: "Multi-byte UTF-8 is relayed byte for byte",
    run: (ctx) => relayPieces(ctx, [joinLines(UTF8)], UTF8, false),
  },
  {
    id: "framing.invalid-utf8",
    clause: "§1.3",
    level: "MUST",
    requirement:
      "Bytes that are not valid UTF-8 are relayed unchanged (no decoding)",
    run: (ctx) =>
      relayPieces(ctx, [joinLines(INVALID_UTF8)], INVALID_UTF8, false),
  },
  {
    id: "framing.nul",
    clause: "§1.3",
    level: "MUST",
    requirement: "NUL bytes are content and relayed unchanged",
    run: (ctx) => relayPieces(ctx, [joinLines(NUL)], NUL, false),
  },
  {
    id: "framing.all-bytes",
    clause: "§1.3",
    level: "MUST",
    requirement: "A line holding every byte value but LF is relayed unchanged",
    run: (ctx) =>
      relayPieces(ctx, [bytes(allBytes(), "\n")], [allBytes()], false),
  },
  {
    id: "framing.lone-cr",
    clause: "§1.1",
    level: "MUST",
    requirement: "A CR not followed by LF is content, not a terminator",
    run: (ctx) =>
      relayPieces(
        ctx,
        ["a\rb\n\rstart\nend\r\r\n\r\r\ntwo\r\rcr\nsplit\r", "cr\n"],
        ["a\rb", "\rstart", "end\r", "\r", "two\r\rcr", "split\rcr"],
        true,
      ),
  },
  {
    id: "framing.lengths",
    clause: "§4.1",
    level: "MUST",
    requirement:
      "Lines of 1 byte, 1 KiB, 4 KiB and just under the declared limit are relayed intact",
    async run(ctx) {
      const lengths = [1, 1024, 4096, ctx.maxLineBytes - 1]
        .filter((n, i, all) => n >= 1 && all.indexOf(n) === i);
      ctx.note(`lengths: ${lengths.map(size).join(", ")}`);
      const lines = lengths.map((n, i) => filler(n, i + 1));
      const [a, b] = await ctx.room(["A", "B"]);
      for (const line of lines) await a.write(bytes(line, "\n"));
      await ctx.expectLines(b, lines, await ctx.sentinel(a), {
        timeoutMs: ctx.timeout(2000 + ctx.maxLineBytes / 1000),
      });
    },
  },
];
