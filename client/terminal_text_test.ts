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
