import { deepStrictEqual, equal } from "node:assert/strict";
import {
  bytes,
  bytesEqual,
  concat,
  endsWith,
  joinLines,
  startsWith,
  toBytes,
  utf8,
} from "./bytes.ts";

const text = (data: Uint8Array) => new TextDecoder().decode(data);

Deno.test("bytes are built from numbers, arrays, strings and byte arrays in order", () => {
  deepStrictEqual([...bytes("a", 0x0d, [0x0a, 0], utf8("é"))], [
    0x61,
    0x0d,
    0x0a,
    0,
    0xc3,
    0xa9,
  ]);
  deepStrictEqual([...concat(utf8("ab"), utf8("c"))], [0x61, 0x62, 0x63]);
  equal(toBytes(utf8("x")).length, 1);
});

Deno.test("joinLines ends every line with its terminator, LF unless told", () => {
  equal(text(joinLines(["a", utf8(""), "c"])), "a\n\nc\n");
  equal(text(joinLines(["a", "b"], "\r\n")), "a\r\nb\r\n");
  equal(joinLines([]).length, 0);
});

Deno.test("prefixes, suffixes and equality compare bytes, not text", () => {
  const line = bytes(0xff, "abc", 0x00);
  equal(startsWith(line, bytes(0xff, "a")), true);
  equal(startsWith(bytes("a"), bytes("ab")), false);
  equal(endsWith(line, bytes("c", 0)), true);
  equal(endsWith(line, bytes("c")), false);
  equal(bytesEqual(line, bytes(0xff, "abc", 0)), true);
  equal(bytesEqual(line, bytes(0xff, "abc")), false);
});
