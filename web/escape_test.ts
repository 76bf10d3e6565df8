import { equal } from "node:assert/strict";
import { toDisplayText } from "./escape.js";

const bytes = (...values: number[]) => Uint8Array.from(values);

Deno.test("the page shows valid UTF-8 as it is, and markup as text", () => {
  equal(
    toDisplayText("héllo ✓ <script>x</script>"),
    "héllo ✓ <script>x</script>",
  );
  equal(toDisplayText(new TextEncoder().encode("日本 🎉")), "日本 🎉");
});

Deno.test("bytes that are not UTF-8 are shown as \\xNN, one by one", () => {
  equal(toDisplayText(bytes(0x61, 0xff, 0x62)), "a\\xffb");
  equal(toDisplayText(bytes(0xc0, 0x80)), "\\xc0\\x80", "overlong");
  equal(toDisplayText(bytes(0xe2, 0x82)), "\\xe2\\x82", "cut short");
  equal(
    toDisplayText(bytes(0xed, 0xa0, 0x80)),
    "\\xed\\xa0\\x80",
    "a surrogate",
  );
});

Deno.test("controls, bidi and zero-width characters are shown as the terminal client shows them", () => {
  equal(toDisplayText("a\x1b[2J\x00\x7f"), "a^[[2J^@^?");
  equal(toDisplayText("x\u202ey\u200bz"), "x\\u202ey\\u200bz");
  equal(toDisplayText(bytes(0xc2, 0x9b)), "\\u009b", "a C1 control");
  equal(toDisplayText("tab\tkept"), "tab\tkept");
});
