/**
 * Making received bytes safe to show on a terminal.
 *
 * @module
 */

const decoder = new TextDecoder();

/**
 * Decodes a line as UTF-8 (invalid bytes become U+FFFD) and replaces
 * control characters, ESC among them, with visible `^X` forms, so that
 * nobody in the room can move your cursor, clear your screen or retitle
 * your terminal. Tabs are kept.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { toTerminalText } from "./terminal_text.ts";
 *
 * equal(toTerminalText(new TextEncoder().encode("a\x1b[2Jb\x00")), "a^[[2Jb^@");
 * ```
 */
export function toTerminalText(line: Uint8Array): string {
  return decoder.decode(line).replace(
    // deno-lint-ignore no-control-regex
    /[\x00-\x08\x0a-\x1f\x7f\x80-\x9f]/g,
    (c) => {
      const code = c.charCodeAt(0);
      if (code < 0x20) return "^" + String.fromCharCode(code + 0x40);
      if (code === 0x7f) return "^?";
      return `\\u${code.toString(16).padStart(4, "0")}`;
    },
  );
}
