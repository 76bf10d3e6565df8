import { deepStrictEqual, equal } from "node:assert/strict";
import {
  consistentDecoration,
  contentOf,
  describeLineMismatch,
  lineMismatch,
} from "./compare.ts";

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

Deno.test("lineMismatch: lines with bytes added around them are said to be decorated", () => {
  const decorated = lineMismatch(
    "B",
    e("one", "two"),
    e("127.0.0.1:4000: one", "127.0.0.1:4000: two"),
  );
  equal(decorated?.decorated, true);
  equal(
    decorated?.message,
    'B received the lines decorated: "one" arrived decorated as "127.0.0.1:4000: one" (and 1 more lines likewise)',
  );
  // A CR kept as content is a framing fault, not a decoration.
  equal(lineMismatch("B", e("one"), e("one\r"))?.decorated, false);
  equal(
    describeLineMismatch("B", e("a b", "c"), e("<u> a b", "x")),
    'B received "a b" decorated as "<u> a b" (line 1 of 2)',
  );
});

Deno.test("consistentDecoration: the sentinel decorated like every line", () => {
  const [sentinel] = e("lcc~end~c1~A~1");
  const prefix = consistentDecoration(
    e("hi", "there"),
    e("A: hi", "A: there", "A: lcc~end~c1~A~1"),
    sentinel,
  )?.prefix;
  equal(new TextDecoder().decode(prefix), "A: ");
  // A partial line glued onto the sentinel alone proves nothing.
  equal(consistentDecoration(e(), e("PARTIALlcc~end~c1~A~1"), sentinel), null);
});
