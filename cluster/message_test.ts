import { deepEqual, equal, throws } from "node:assert/strict";
import {
  type BusEntry,
  decodeMessage,
  encodeMessage,
  ENTRY_HEADER_BYTES,
  HEADER_BYTES,
  MalformedMessageError,
  newNodeId,
  nodeIdHex,
} from "./message.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

Deno.test("a message round-trips node id, sequence and entries", () => {
  const nodeId = newNodeId();
  const entries: BusEntry[] = [
    {
      completedAt: 1_700_000_000_123.25,
      senderId: 1,
      lineCount: 1,
      batch: bytes(0x61, 0x0d, 0x0a),
    },
    {
      completedAt: 2,
      senderId: 2 ** 40 + 7,
      lineCount: 2,
      batch: bytes(0x0d, 0x0a, 0x0d, 0x0a),
    },
  ];
  const encoded = encodeMessage(nodeId, 2 ** 32 - 1, entries);
  equal(encoded.length, HEADER_BYTES + 2 * ENTRY_HEADER_BYTES + 7);
  const decoded = decodeMessage(encoded);
  equal(nodeIdHex(decoded.nodeId), nodeIdHex(nodeId));
  equal(decoded.sequence, 2 ** 32 - 1);
  deepEqual(decoded.entries, entries);
});

Deno.test("§1.3 batches are carried byte for byte: NUL, invalid UTF-8, lone CR", () => {
  const batch = bytes(
    0x00,
    0xff,
    0xfe,
    0xc3,
    0x28,
    0x0d,
    0x41,
    0x09,
    0x20,
    0x0d,
    0x0a,
  );
  const decoded = decodeMessage(
    encodeMessage(newNodeId(), 0, [{
      completedAt: 0,
      senderId: 3,
      lineCount: 1,
      batch,
    }]),
  );
  deepEqual(decoded.entries[0].batch, batch);
});

Deno.test("decoding reads views of the message, not copies", () => {
  const message = encodeMessage(newNodeId(), 0, [
    {
      completedAt: 0,
      senderId: 3,
      lineCount: 1,
      batch: bytes(0x61, 0x0d, 0x0a),
    },
  ]);
  const decoded = decodeMessage(message);
  equal(decoded.entries[0].batch.buffer, message.buffer);
});

Deno.test("the sequence number wraps at 2^32", () => {
  const decoded = decodeMessage(
    encodeMessage(newNodeId(), 2 ** 32, [
      { completedAt: 0, senderId: 1, lineCount: 1, batch: bytes(0x0d, 0x0a) },
    ]),
  );
  equal(decoded.sequence, 0);
});

Deno.test("the line mark round-trips and wraps at 2^32", () => {
  const entry = {
    completedAt: 0,
    senderId: 1,
    lineCount: 1,
    batch: bytes(0x0d, 0x0a),
  };
  equal(decodeMessage(encodeMessage(newNodeId(), 0, [entry], 12)).lineMark, 12);
  equal(
    decodeMessage(encodeMessage(newNodeId(), 0, [entry], 2 ** 32 + 5))
      .lineMark,
    5,
  );
});

Deno.test("a version-1 message (no line mark) is still read", () => {
  const entry = {
    completedAt: 9,
    senderId: 4,
    lineCount: 1,
    batch: bytes(0x61, 0x0d, 0x0a),
  };
  const v2 = encodeMessage(newNodeId(), 77, [entry], 3);
  const v1 = Uint8Array.of(1, ...v2.subarray(1, 16), ...v2.subarray(20));
  const decoded = decodeMessage(v1);
  equal(decoded.sequence, 77);
  equal(decoded.lineMark, undefined);
  deepEqual(decoded.entries, [entry]);
  throws(() => decodeMessage(v1.subarray(0, 16 + 23)), MalformedMessageError);
});

Deno.test("malformed messages are rejected, never half-read", () => {
  const good = encodeMessage(newNodeId(), 0, [
    {
      completedAt: 0,
      senderId: 1,
      lineCount: 1,
      batch: bytes(0x61, 0x0d, 0x0a),
    },
  ]);
  const cases: Record<string, Uint8Array> = {
    "empty": new Uint8Array(),
    "header only": good.subarray(0, HEADER_BYTES),
    "truncated batch": good.subarray(0, good.length - 1),
    "trailing garbage": Uint8Array.of(...good, 1, 2, 3),
    "other version": Uint8Array.of(3, ...good.subarray(1)),
    "flags set": Uint8Array.of(2, 1, ...good.subarray(2)),
    "not a message": new TextEncoder().encode(
      "hello from redis-cli, long enough to parse",
    ),
  };
  const zeroLines = good.slice();
  new DataView(zeroLines.buffer).setUint32(HEADER_BYTES + 16, 0);
  cases["zero lines"] = zeroLines;
  const noLf = good.slice();
  noLf[noLf.length - 1] = 0x41;
  cases["batch not ending in LF"] = noLf;
  for (const [name, message] of Object.entries(cases)) {
    throws(() => decodeMessage(message), MalformedMessageError, name);
  }
});

Deno.test("node ids are random and 8 bytes", () => {
  const a = newNodeId();
  const b = newNodeId();
  equal(a.length, 8);
  equal(nodeIdHex(a) === nodeIdHex(b), false);
  throws(() => encodeMessage(new Uint8Array(4), 0, []), RangeError);
});
