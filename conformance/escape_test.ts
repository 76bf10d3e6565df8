import { equal, ok } from "node:assert/strict";
import { escapeBytes, escapeLines, escapeOutput, fnv1a } from "./escape.ts";

const b = (...bytes: number[]) => new Uint8Array(bytes);

Deno.test('escapeBytes shows printable ASCII as is and names \\0 \\t \\r \\n \\\\ \\"', () => {
  equal(escapeBytes("plain text ~!"), "plain text ~!");
  equal(escapeBytes(b(0, 9, 13, 10, 0x5c, 0x22)), '\\0\\t\\r\\n\\\\\\"');
});

Deno.test("escapeBytes writes other control bytes and DEL as \\xNN", () => {
  equal(escapeBytes(b(1, 0x1b, 0x7f)), "\\x01\\x1b\\x7f");
});

Deno.test("escapeBytes keeps valid UTF-8 readable and invalid UTF-8 as \\xNN", () => {
  equal(escapeBytes("héllo 日本 😀"), "héllo 日本 😀");
  equal(escapeBytes(b(0xff)), "\\xff");
  equal(escapeBytes(b(0x61, 0xc3)), "a\\xc3", "truncated sequence");
  equal(escapeBytes(b(0xc0, 0xaf)), "\\xc0\\xaf", "overlong encoding");
  equal(escapeBytes(b(0xed, 0xa0, 0x80)), "\\xed\\xa0\\x80", "surrogate");
  equal(
    escapeBytes(b(0xf5, 0x80, 0x80, 0x80)),
    "\\xf5\\x80\\x80\\x80",
    "beyond U+10FFFF",
  );
});

Deno.test("escapeBytes shows invisible and confusing characters as \\u{…}", () => {
  equal(escapeBytes("a\u200bb"), "a\\u{200b}b");
  equal(
    escapeBytes("\ufffd"),
    "\\u{fffd}",
    "a replacement character stands out",
  );
  equal(escapeBytes("\u202e"), "\\u{202e}");
  equal(escapeBytes("\u00a0"), "\u00a0");
});

Deno.test("escapeBytes tells a CR byte from the two characters backslash r", () => {
  ok(escapeBytes("\r") !== escapeBytes("\\r"));
});

Deno.test("escapeBytes abbreviates long lines with their length and hash", () => {
  const long = new Uint8Array(1000).fill(0x61);
  const shown = escapeBytes(long, { maxBytes: 40 });
  ok(shown.includes("…"));
  ok(shown.includes("1000 bytes"));
  ok(shown.includes(fnv1a(long)));
  ok(shown.length < 120);
  const other = long.slice();
  other[500] = 0x62;
  ok(
    escapeBytes(other, { maxBytes: 40 }) !== shown,
    "a change in the middle still shows",
  );
});

Deno.test("escapeBytes never cuts a line of exactly maxBytes", () => {
  equal(escapeBytes("abcd", { maxBytes: 4 }), "abcd");
});

Deno.test("fnv1a matches the reference values", () => {
  equal(fnv1a(new Uint8Array()), "811c9dc5");
  equal(fnv1a(new TextEncoder().encode("a")), "e40c292c");
  equal(fnv1a(new TextEncoder().encode("foobar")), "bf9cf968");
});

Deno.test("escapeLines takes strings, bytes and received lines", () => {
  const lines = escapeLines(["a\tb", b(0), { bytes: b(0xff) }]);
  equal(lines.join("|"), "a\\tb|\\0|\\xff");
});

Deno.test("escapeOutput: a server's own output carries no raw control bytes", () => {
  equal(
    escapeOutput("\x1b[31mred\x1b[0m\r\nbell\x07 tab\tok\n"),
    "\\x1b[31mred\\x1b[0m\nbell\\x07 tab\tok\n",
  );
  equal(escapeOutput("lone\rcr"), "lone\\x0dcr");
  equal(escapeOutput(escapeOutput("\x1b")), "\\x1b", "idempotent");
});
