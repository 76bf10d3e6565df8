/**
 * Making received bytes safe to show on a terminal.
 *
 * @module
 */

const decoder = new TextDecoder();

/**
 * Characters shown escaped (`\uXXXX`) besides C0/C1 controls, because they
 * change how the rest of a line looks without being seen: bidirectional
 * controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), which
 * can reorder text so that one line reads like another ("Trojan Source");
 * zero-width characters (U+180E, U+200B–U+200D, U+2060–U+2064, U+FEFF);
 * and the line and paragraph separators U+2028, U+2029. Escaping U+200D
 * (zero-width joiner) also splits emoji sequences that use it: safety
 * first.
 */
const INVISIBLE =
  "\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff";

const UNSAFE = new RegExp(
  `[\\x00-\\x08\\x0a-\\x1f\\x7f\\x80-\\x9f${INVISIBLE}]`,
  "g",
);

/**
 * Decodes a line as UTF-8 (invalid bytes become U+FFFD) and replaces
 * control characters, ESC among them, with visible `^X` forms, so that
 * nobody in the room can move your cursor, clear your screen or retitle
 * your terminal. Tabs are kept. Bidirectional controls and zero-width
 * characters are shown as `\uXXXX`, so nobody can make a line look like
 * someone else's.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { toTerminalText } from "./terminal_text.ts";
 *
 * equal(toTerminalText(new TextEncoder().encode("a\x1b[2Jb\x00")), "a^[[2Jb^@");
 * equal(toTerminalText(new TextEncoder().encode("x\u202ey")), "x\\u202ey");
 * ```
 */
export function toTerminalText(line: Uint8Array): string {
  return decoder.decode(line).replace(
    UNSAFE,
    (c) => {
      const code = c.charCodeAt(0);
      if (code < 0x20) return "^" + String.fromCharCode(code + 0x40);
      if (code === 0x7f) return "^?";
      return `\\u${code.toString(16).padStart(4, "0")}`;
    },
  );
}
