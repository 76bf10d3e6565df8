import { deepStrictEqual, equal } from "node:assert/strict";
import { contentOf, describeLineMismatch } from "./compare.ts";

const e = (...lines: string[]) => lines.map((l) => new TextEncoder().encode(l));

Deno.test("describeLineMismatch: null when equal byte for byte", () => {
  equal(describeLineMismatch("B", e("a", ""), e("a", "")), null);
});

Deno.test("describeLineMismatch names a changed line", () => {
  equal(
    describeLineMismatch("B", e("  a", "b"), e("a", "b")),
    'B received "a" where "  a" was expected (line 1 of 2)',
  );
});

Deno.test("describeLineMismatch names a missing line, in the middle or at the end", () => {
  equal(
    describeLineMismatch("B", e("a", "", "c"), e("a", "c")),
    'B did not receive "" (line 2 of 3)',
  );
  equal(
    describeLineMismatch("B", e("a", "b", "c"), e("a")),
    'B did not receive "b" (line 2 of 3) nor the 1 after it',
  );
});

Deno.test("describeLineMismatch names an extra line, before others or after all", () => {
  equal(
    describeLineMismatch("B", e("a", "b"), e("banner", "a", "b")),
    'B received an unexpected line "banner" before line 1 of 2',
  );
  equal(
    describeLineMismatch("A", e(), e("echo")),
    'A received an unexpected line "echo" after the 0 expected',
  );
});

Deno.test("contentOf gives an LF server's CR-ended lines their CR back", () => {
  const text = (lines: Uint8Array[]) =>
    lines.map((l) => new TextDecoder().decode(l));
  const [end, x] = e("end", "x");
  deepStrictEqual(
    text(contentOf([{ bytes: end, crlf: true }, { bytes: x, crlf: false }])),
    [
      "end\r",
      "x",
    ],
  );
  deepStrictEqual(
    text(contentOf([{ bytes: end, crlf: true }])),
    ["end"],
    "a CR LF server: as is",
  );
});
