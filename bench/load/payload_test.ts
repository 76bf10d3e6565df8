import { deepEqual, throws } from "node:assert/strict";
import {
  MAX_HEADER_BYTES,
  payloadBodies,
  PayloadDecoder,
  PayloadEncoder,
  randomTag,
} from "./payload.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytes = (s: string) => new TextEncoder().encode(s);
/** The line without its LF, as a receiver's framer hands it over. */
const body = (line: Uint8Array) => line.subarray(0, line.length - 1);

Deno.test("a payload is padded to the requested size and ends in LF", () => {
  const line = new PayloadEncoder("ab12", 40).encode({
    sender: 3,
    seq: 0,
    intendedUs: 1_234_567,
    actualUs: 1_234_999,
  });
  deepEqual(line.length, 41);
  deepEqual(
    text(line),
    "ab12:3:0:1234567:1234999:" + ".".repeat(15) + "\n",
  );
});

Deno.test("a size below the header gives a line of just the header", () => {
  const line = new PayloadEncoder("ab12", 4).encode({
    sender: 0,
    seq: 7,
    intendedUs: 5,
    actualUs: 6,
  });
  deepEqual(text(line), "ab12:0:7:5:6:\n");
});

Deno.test("decode returns exactly what was encoded", () => {
  const encoder = new PayloadEncoder("zz99", 64);
  const decoder = new PayloadDecoder("zz99");
  const cases = [
    [0, 0, 0, 0],
    [1, 9, 10, 99],
    [999_999, 2 ** 31, 2 ** 40, 2 ** 40 + 17],
    [42, 123_456_789, 9_007_199_254_740, 9_007_199_254_741],
  ];
  for (const [sender, seq, intendedUs, actualUs] of cases) {
    const line = encoder.encode({ sender, seq, intendedUs, actualUs });
    deepEqual(decoder.decode(body(line), 64), "ok");
    deepEqual(
      [decoder.sender, decoder.seq, decoder.intendedUs, decoder.actualUs],
      [sender, seq, intendedUs, actualUs],
    );
  }
});

Deno.test("encodeInto packs a batch of lines back to back", () => {
  const encoder = new PayloadEncoder("abcd", 32);
  const batch = new Uint8Array(encoder.maxBatchBytes(3));
  let offset = 0;
  for (let seq = 0; seq < 3; seq++) {
    offset = encoder.encodeInto(batch, offset, 1, seq, 100 + seq, 200 + seq);
  }
  const lines = text(batch.subarray(0, offset)).split("\n");
  deepEqual(lines.length, 4); // three lines and the empty tail
  deepEqual(lines.slice(0, 3).map((l) => l.length), [32, 32, 32]);
  deepEqual(lines[2].slice(0, 17), "abcd:1:2:102:202:");
});

Deno.test("the worst-case header fits MAX_HEADER_BYTES", () => {
  const line = new PayloadEncoder("abcd", 0).encode({
    sender: 999_999,
    seq: Number.MAX_SAFE_INTEGER,
    intendedUs: Number.MAX_SAFE_INTEGER,
    actualUs: Number.MAX_SAFE_INTEGER,
  });
  deepEqual(line.length - 1, MAX_HEADER_BYTES);
});

Deno.test("a line of another run or no run at all is foreign", () => {
  const decoder = new PayloadDecoder("abcd");
  const other = new PayloadEncoder("wxyz", 40).encode({
    sender: 1,
    seq: 1,
    intendedUs: 1,
    actualUs: 1,
  });
  deepEqual(decoder.decode(body(other), 40), "foreign");
  deepEqual(decoder.decode(bytes("Welcome to the chat!")), "foreign");
  deepEqual(decoder.decode(bytes("")), "foreign");
  deepEqual(decoder.decode(bytes("abcd!1")), "foreign"); // a join probe
});

Deno.test("cut, merged or altered lines are malformed", () => {
  const encoder = new PayloadEncoder("abcd", 40);
  const decoder = new PayloadDecoder("abcd");
  const line = body(
    encoder.encode({ sender: 2, seq: 5, intendedUs: 77, actualUs: 78 }),
  );
  deepEqual(decoder.decode(line, 40), "ok");
  // Cut short (a server that truncates).
  deepEqual(decoder.decode(line.subarray(0, 30), 40), "malformed");
  deepEqual(decoder.decode(line.subarray(0, 9), 40), "malformed");
  // Two lines merged into one (a server that loses a terminator).
  const merged = new Uint8Array(line.length * 2);
  merged.set(line);
  merged.set(line, line.length);
  deepEqual(decoder.decode(merged, 40), "malformed");
  // A digit replaced.
  const altered = line.slice();
  altered[7] = 0x78; // "x"
  deepEqual(decoder.decode(altered, 40), "malformed");
  // The padding's end replaced (a CR left in by a server that keeps it).
  const withCr = line.slice();
  withCr[withCr.length - 1] = 0x0d;
  deepEqual(decoder.decode(withCr, 40), "malformed");
});

Deno.test("run tags are four lowercase letters or digits", () => {
  for (let i = 0; i < 20; i++) {
    const tag = randomTag();
    deepEqual(/^[a-z0-9]{4}$/.test(tag), true, tag);
  }
  throws(() => new PayloadDecoder("ABCD"), RangeError);
  throws(() => new PayloadEncoder("abc", 10), RangeError);
  throws(() => new PayloadEncoder("abcd", -1), RangeError);
});

Deno.test("decodeSpan reads a line in the middle of a buffer, bounds respected", () => {
  const encoder = new PayloadEncoder("abcd", 40);
  const decoder = new PayloadDecoder("abcd");
  const first = body(
    encoder.encode({ sender: 1, seq: 8, intendedUs: 70, actualUs: 71 }),
  );
  const second = body(
    encoder.encode({ sender: 3, seq: 9, intendedUs: 90, actualUs: 95 }),
  );
  const buffer = new Uint8Array(first.length + 1 + second.length + 1);
  buffer.set(first);
  buffer[first.length] = 0x0a;
  buffer.set(second, first.length + 1);
  buffer[buffer.length - 1] = 0x0a;
  const start = first.length + 1;
  const end = start + second.length;
  deepEqual(decoder.decodeSpan(buffer, start, end, 40), "ok");
  deepEqual(
    [decoder.sender, decoder.seq, decoder.intendedUs, decoder.actualUs],
    [3, 9, 90, 95],
  );
  deepEqual(decoder.decodeSpan(buffer, 0, first.length, 40), "ok");
  deepEqual(decoder.seq, 8);
  // A span that runs into the next line, or stops short, is malformed.
  deepEqual(decoder.decodeSpan(buffer, 0, end, 40), "malformed");
  deepEqual(decoder.decodeSpan(buffer, start, end - 1, 40), "malformed");
  deepEqual(decoder.decodeSpan(buffer, start + 1, end, 40), "foreign");
});

Deno.test("a payload file's lines are the bodies, in turn, and each is checked", () => {
  const bodies = payloadBodies(bytes("one\r\ntwo two\n\nlast"));
  deepEqual(bodies.map(text), ["one", "two two", "", "last"]);
  const encoder = new PayloadEncoder("ab12", 64, bodies);
  const decoder = new PayloadDecoder("ab12", bodies);
  const lines = [0, 1, 2, 3, 4].map((seq) =>
    encoder.encode({ sender: 1, seq, intendedUs: 5, actualUs: 6 })
  );
  deepEqual(text(lines[1]), "ab12:1:1:5:6:two two\n");
  deepEqual(text(lines[4]), "ab12:1:4:5:6:one\n");
  for (const line of lines) deepEqual(decoder.decode(body(line)), "ok");
  // Cut short, or carrying the body of another sequence number: malformed.
  deepEqual(decoder.decode(body(lines[1]).subarray(0, 18)), "malformed");
  deepEqual(decoder.decode(bytes("ab12:1:0:5:6:two two")), "malformed");
  deepEqual(
    decoder.decode(bytes("ab12:1:1:5:6:twx two")),
    "ok",
    "only the ends are checked",
  );
  deepEqual(decoder.decode(bytes("ab12:1:1:5:6:two twx")), "malformed");
  throws(() => payloadBodies(new Uint8Array(0)), RangeError);
});
