import { deepEqual } from "node:assert/strict";
import { encodeLines } from "./encode_lines.ts";

Deno.test("§2.5 every encoded line ends with CR LF, bytes untouched", () => {
  const lines = [
    Uint8Array.of(0, 0xff, 0x0d),
    new Uint8Array(0),
    Uint8Array.of(0x61),
  ];
  deepEqual(
    encodeLines(lines),
    Uint8Array.of(0, 0xff, 0x0d, 0x0d, 0x0a, 0x0d, 0x0a, 0x61, 0x0d, 0x0a),
  );
  deepEqual(encodeLines([]), new Uint8Array(0));
});
