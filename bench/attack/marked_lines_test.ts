import { deepEqual, equal } from "node:assert/strict";
import {
  markedLine,
  MarkedLineScanner,
  parseMarkedLine,
} from "./marked_lines.ts";

const encoder = new TextEncoder();

function scan(chunks: Uint8Array[]): string[] {
  const found: string[] = [];
  const scanner = new MarkedLineScanner((line) =>
    found.push(`${line.kind}:${line.fields.join(",")}`)
  );
  for (const chunk of chunks) scanner.push(chunk);
  return found;
}

Deno.test("MarkedLineScanner finds marked lines in a flood, however the reads split", () => {
  const stream = encoder.encode(
    "f\r\nf\r\npca.1.2\r\nff\r\nxp not at the start\npjb.3\nf\n" +
      "p\npcc.4.5\r\n",
  );
  const expected = ["c:a,1,2", "j:b,3", "c:c,4,5"];
  deepEqual(scan([stream]), expected);
  for (let cut = 0; cut <= stream.length; cut++) {
    deepEqual(
      scan([stream.subarray(0, cut), stream.subarray(cut)]),
      expected,
      `split at ${cut}`,
    );
  }
  // One byte per read.
  deepEqual(
    scan(Array.from(stream, (byte) => new Uint8Array([byte]))),
    expected,
  );
});

Deno.test("MarkedLineScanner skips a marked-looking line too long to be ours", () => {
  const found: string[] = [];
  const scanner = new MarkedLineScanner((line) => found.push(line.kind));
  scanner.push(encoder.encode("pc" + "x".repeat(5000)));
  scanner.push(encoder.encode("y".repeat(5000) + "\npcok\n"));
  deepEqual(found, ["c"]);
  equal(scanner.skipped, 1);
});

Deno.test("markedLine and parseMarkedLine round-trip", () => {
  const bytes = markedLine("r", ["tag", 7, 0, "end"]);
  const text = new TextDecoder().decode(bytes);
  equal(text, "prtag.7.0.end\n");
  deepEqual(parseMarkedLine(text.trimEnd()), {
    kind: "r",
    fields: ["tag", "7", "0", "end"],
  });
  equal(parseMarkedLine("f"), undefined);
});
