// What the page shows of a received line: text, never markup, and every
// byte that would change how the line looks made visible, as the terminal
// client does (client/terminal_text.ts): C0 controls as ^X, DEL as ^?,
// C1 controls, bidirectional controls and zero-width characters as \uXXXX,
// and bytes that are not valid UTF-8 as \xNN.

/** Characters shown as \uXXXX besides C0/C1 controls (see terminal_text.ts). */
const INVISIBLE =
  /[\u0080-\u009f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/** Decodes UTF-8, writing each byte of an invalid sequence as \xNN. */
function decodeEscaped(bytes) {
  let out = "";
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    const need = b < 0x80
      ? 0
      : b >= 0xc2 && b < 0xe0
      ? 1
      : b >= 0xe0 && b < 0xf0
      ? 2
      : b >= 0xf0 && b < 0xf5
      ? 3
      : -1;
    if (need === 0) {
      out += String.fromCharCode(b);
      i++;
      continue;
    }
    let code = need === 1 ? b & 0x1f : need === 2 ? b & 0x0f : b & 0x07;
    let ok = need > 0;
    for (let k = 1; ok && k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) ok = false;
      else code = (code << 6) | (c & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if (
      ok &&
      ((need === 2 && code < 0x800) || (need === 3 && code < 0x10000) ||
        (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff)
    ) ok = false;
    if (!ok) {
      out += `\\x${b.toString(16).padStart(2, "0")}`;
      i++;
      continue;
    }
    out += String.fromCodePoint(code);
    i += need + 1;
  }
  return out;
}

/**
 * The text to show for a line received as bytes (binary frames) or as a
 * string (text frames).
 */
export function toDisplayText(line) {
  const text = typeof line === "string" ? line : decodeEscaped(line);
  return text
    // deno-lint-ignore no-control-regex
    .replace(/[\x00-\x08\x0a-\x1f\x7f]/g, (c) => {
      const code = c.charCodeAt(0);
      return code === 0x7f ? "^?" : "^" + String.fromCharCode(code + 0x40);
    })
    .replace(
      INVISIBLE,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
}
