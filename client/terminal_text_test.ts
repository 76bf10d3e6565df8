import { equal } from "node:assert/strict";
import { toTerminalText } from "./terminal_text.ts";

Deno.test("control characters are shown, not obeyed; tabs and text are kept", () => {
  const line = Uint8Array.of(
    0x61,
    0x09,
    0x1b,
    0x5b,
    0x48,
    0x07,
    0x0d,
    0x7f,
    0x62,
  );
  equal(toTerminalText(line), "a\t^[[H^G^M^?b");
});

Deno.test("invalid UTF-8 becomes U+FFFD; C1 controls are escaped", () => {
  equal(toTerminalText(Uint8Array.of(0xff, 0xc2, 0x9b)), "\ufffd\\u009b");
});

Deno.test("bidirectional controls are escaped, so a line cannot be made to read like another", () => {
  const encode = (s: string) => new TextEncoder().encode(s);
  for (
    const code of [
      0x061c,
      0x200e,
      0x200f,
      0x202a,
      0x202b,
      0x202c,
      0x202d,
      0x202e,
      0x2066,
      0x2067,
      0x2068,
      0x2069,
    ]
  ) {
    const hex = code.toString(16).padStart(4, "0");
    equal(
      toTerminalText(encode(`a${String.fromCharCode(code)}b`)),
      `a\\u${hex}b`,
    );
  }
  // "alice: hi" spoofed with RIGHT-TO-LEFT OVERRIDE shows the override.
  equal(
    toTerminalText(encode("bob: \u202eih :ecila")),
    "bob: \\u202eih :ecila",
  );
});

Deno.test("zero-width characters and line separators are escaped; other text is kept", () => {
  const encode = (s: string) => new TextEncoder().encode(s);
  for (
    const code of [
      0x180e,
      0x200b,
      0x200c,
      0x200d,
      0x2060,
      0x2061,
      0x2062,
      0x2063,
      0x2064,
      0xfeff,
      0x2028,
      0x2029,
    ]
  ) {
    const hex = code.toString(16).padStart(4, "0");
    equal(
      toTerminalText(encode(`x${String.fromCharCode(code)}y`)),
      `x\\u${hex}y`,
    );
  }
  equal(toTerminalText(encode("héllo wörld ✓ 日本")), "héllo wörld ✓ 日本");
});
