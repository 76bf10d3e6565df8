import { equal } from "node:assert/strict";
import { seededRandom } from "../_testing/random.ts";
import { LfScanner } from "./_lf_scanner.ts";

Deno.test("LfScanner finds every LF as indexOf does, at any alignment and start", () => {
  const random = seededRandom(0x9e3779b9);
  const backing = new Uint8Array(2048);
  for (let round = 0; round < 300; round++) {
    // Sparse or dense LFs, bytes that differ from LF in one bit, and 0x8a
    // (LF with the high bit set) to trip a careless word test.
    const density = [2, 16, 100, 1000][random(4)];
    for (let i = 0; i < backing.length; i++) {
      backing[i] = random(density) === 0
        ? 0x0a
        : [0x0b, 0x08, 0x8a, 0x00, 0xff, 0x0e, 0x61][random(7)];
    }
    const offset = random(8);
    const chunk = backing.subarray(offset, offset + random(2040 - offset));
    const scanner = new LfScanner(chunk);
    for (let from = 0; from <= chunk.length; from += 1 + random(40)) {
      equal(
        scanner.indexOf(from),
        chunk.indexOf(0x0a, from),
        `round ${round}, offset ${offset}, length ${chunk.length}, from ${from}`,
      );
    }
  }
});

Deno.test("LfScanner: empty and LF-free chunks", () => {
  equal(new LfScanner(new Uint8Array(0)).indexOf(0), -1);
  equal(new LfScanner(new Uint8Array(3).fill(0x61)).indexOf(0), -1);
  equal(new LfScanner(new Uint8Array(1000).fill(0x61)).indexOf(5), -1);
  equal(new LfScanner(Uint8Array.of(0x0a)).indexOf(0), 0);
  equal(new LfScanner(Uint8Array.of(0x0a)).indexOf(1), -1);
  // An empty view at the very end of its buffer, unaligned.
  const buffer = new Uint8Array(7);
  equal(new LfScanner(buffer.subarray(7)).indexOf(0), -1);
  equal(new LfScanner(buffer.subarray(5)).indexOf(0), -1);
});
