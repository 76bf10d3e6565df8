import { deepEqual, equal, throws } from "node:assert/strict";
import {
  bytesLatin1,
  clientName,
  decodeSchedule,
  describeStep,
  encodeSchedule,
  latin1Bytes,
  segments,
  type Step,
} from "./schedule.ts";

type Send = Extract<Step, { do: "send" }>;
const send = (data: string, cut: Send["cut"], cuts: number[] = []): Send => ({
  do: "send",
  client: 0,
  data,
  cut,
  cuts,
  tick: false,
});
const sizes = (step: Send) => segments(step).map((s) => bytesLatin1(s));

Deno.test("segments: whole is one write, bytes one byte per write", () => {
  deepEqual(sizes(send("ab\n", "whole")), ["ab\n"]);
  deepEqual(sizes(send("ab\n", "bytes")), ["a", "b", "\n"]);
});

Deno.test("segments: crlf-split cuts between every CR and the byte after it", () => {
  deepEqual(sizes(send("a\r\nb\r\n", "crlf-split")), ["a\r", "\nb\r", "\n"]);
});

Deno.test("segments: random cuts are taken modulo the length, deduplicated", () => {
  deepEqual(sizes(send("abcd", "random", [0, 3, 1])), ["a", "b", "cd"]);
  // Every cut leaves the bytes whole, in order.
  equal(sizes(send("x\r\ny", "random", [7, 2, 9])).join(""), "x\r\ny");
});

Deno.test("latin1Bytes and bytesLatin1 carry every byte value", () => {
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  deepEqual(latin1Bytes(bytesLatin1(all)), all);
});

Deno.test("a schedule's replay encoding decodes to the same steps", () => {
  const steps: Step[] = [
    { do: "join", client: 0, line: "\0\xff é" },
    send("a\r\nb", "random", [3]),
    { do: "leave", client: 0, how: "half-close", tail: "part" },
    { do: "pause", client: 1 },
  ];
  const text = encodeSchedule(steps);
  equal(/^[A-Za-z0-9_-]+$/.test(text), true, "base64url");
  deepEqual(decodeSchedule(text), steps);
});

Deno.test("decodeSchedule rejects what is not a valid schedule", () => {
  throws(() => decodeSchedule("%%%"), TypeError);
  throws(() => decodeSchedule(btoa('{"do":"join"}')), /a list/);
  throws(
    () => decodeSchedule(btoa('[{"do":"join","client":0,"line":"a\\nb"}]')),
    /step 1/,
  );
  throws(
    () => decodeSchedule(btoa('[{"do":"pause","client":9}]')),
    /step 1/,
  );
});

Deno.test("describeStep says what a step does, bytes escaped", () => {
  equal(clientName(0), "A");
  equal(
    describeStep({ do: "join", client: 1, line: "\t" }),
    'B connects and sends "\\t" + LF',
  );
  equal(
    describeStep({ ...send("a\r\n", "crlf-split"), tick: true }),
    'A sends "a\\r\\n" in 2 writes (crlf-split, the server reads each apart)',
  );
  equal(
    describeStep({ do: "leave", client: 2, how: "reset", tail: "" }),
    "C resets (RST)",
  );
});
