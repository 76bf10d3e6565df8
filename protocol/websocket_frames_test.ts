import { deepEqual, equal } from "node:assert/strict";
import {
  encodeLineFrames,
  FrameDecoder,
  type FrameHandler,
  OP_BINARY,
  OP_CLOSE,
  OP_CONTINUATION,
  OP_PING,
  OP_TEXT,
} from "./websocket_frames.ts";

const text = (s: string) => new TextEncoder().encode(s);

/** A masked client frame, as a browser sends it. */
function clientFrame(
  opcode: number,
  payload: Uint8Array,
  { fin = true, mask = true } = {},
): Uint8Array {
  const length = payload.length;
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const out = new Uint8Array(header + (mask ? 4 : 0) + length);
  out[0] = (fin ? 0x80 : 0) | opcode;
  if (length < 126) out[1] = length;
  else if (length < 65536) {
    out[1] = 126;
    out[2] = length >> 8;
    out[3] = length & 0xff;
  } else {
    out[1] = 127;
    new DataView(out.buffer).setUint32(6, length);
  }
  if (mask) out[1] |= 0x80;
  const key = Uint8Array.of(0x12, 0x34, 0x56, 0x78);
  if (mask) out.set(key, header);
  const body = out.subarray(header + (mask ? 4 : 0));
  for (let i = 0; i < length; i++) {
    body[i] = payload[i] ^ (mask ? key[i & 3] : 0);
  }
  return out;
}

function recorder() {
  const events: string[] = [];
  const messages: Uint8Array[] = [];
  const handler: FrameHandler = {
    message(bytes, isText) {
      messages.push(bytes);
      events.push(`${isText ? "text" : "binary"}:${bytes.length}`);
    },
    ping: (payload) => events.push(`ping:${new TextDecoder().decode(payload)}`),
    close: (code, reason) => events.push(`close:${code}:${reason}`),
    fail: (code, reason) => events.push(`fail:${code}:${reason}`),
  };
  return { events, messages, handler };
}

Deno.test("one masked frame is one message, text or binary, byte for byte", () => {
  const { events, messages, handler } = recorder();
  const decoder = new FrameDecoder(1024, handler);
  decoder.push(clientFrame(OP_TEXT, text("héllo")));
  decoder.push(clientFrame(OP_BINARY, Uint8Array.of(0, 0xff, 0x0d)));
  deepEqual(events, ["text:6", "binary:3"]);
  deepEqual(messages[1], Uint8Array.of(0, 0xff, 0x0d));
});

Deno.test("frames split anywhere, even byte by byte, decode the same", () => {
  const { messages, handler } = recorder();
  const decoder = new FrameDecoder(100_000, handler);
  const payload = new Uint8Array(70_000).map((_, i) => i % 251);
  const wire = new Uint8Array([
    ...clientFrame(OP_BINARY, payload),
    ...clientFrame(OP_TEXT, text("b")),
  ]);
  for (let i = 0; i < wire.length; i++) decoder.push(wire.subarray(i, i + 1));
  deepEqual(messages, [payload, text("b")]);
  equal(decoder.bufferedBytes, 0);
});

Deno.test("fragments join into one message; pings between them are answered", () => {
  const { events, messages, handler } = recorder();
  const decoder = new FrameDecoder(1024, handler);
  decoder.push(clientFrame(OP_TEXT, text("ab"), { fin: false }));
  decoder.push(clientFrame(OP_PING, text("p")));
  decoder.push(clientFrame(OP_CONTINUATION, text("cd")));
  deepEqual(events, ["ping:p", "text:4"]);
  deepEqual(messages[0], text("abcd"));
});

Deno.test("tiny and empty fragments build one message; each counts as a frame without a line", () => {
  const { events, messages, handler } = recorder();
  const decoder = new FrameDecoder(70_000, handler);
  decoder.push(clientFrame(OP_TEXT, text("a"), { fin: false }));
  const empty = clientFrame(OP_CONTINUATION, new Uint8Array(0), { fin: false });
  const one = clientFrame(OP_CONTINUATION, text("b"), { fin: false });
  const many = new Uint8Array((empty.length + one.length) * 20_000);
  for (let i = 0; i < 20_000; i++) {
    many.set(empty, i * (empty.length + one.length));
    many.set(one, i * (empty.length + one.length) + empty.length);
  }
  decoder.push(many);
  equal(decoder.inMessage, true, "a message is unfinished");
  equal(decoder.extraFrames, 1 + 40_000);
  decoder.push(clientFrame(OP_PING, new Uint8Array(0)));
  decoder.push(clientFrame(OP_CONTINUATION, text("c")));
  equal(decoder.extraFrames, 1 + 40_000 + 2, "the ping and the last fragment");
  equal(decoder.inMessage, false);
  deepEqual(events, ["ping:", "text:20002"]);
  deepEqual(messages[0], text("a" + "b".repeat(20_000) + "c"));
  decoder.push(clientFrame(OP_TEXT, text("whole")));
  equal(decoder.extraFrames, 40_003, "a whole message is not extra");
});

Deno.test("a frame split over reads is held until complete, then let go", () => {
  const { events, handler } = recorder();
  const decoder = new FrameDecoder(100_000, handler);
  const frame = clientFrame(OP_BINARY, new Uint8Array(50_000));
  decoder.push(frame.subarray(0, 20_000));
  equal(decoder.inMessage, true);
  equal(decoder.bufferedBytes, 20_000);
  decoder.push(frame.subarray(20_000));
  equal(decoder.bufferedBytes, 0);
  equal(decoder.inMessage, false);
  deepEqual(events, ["binary:50000"]);
});

Deno.test("a message over the bound fails with 1009 before it is buffered", () => {
  const { events, handler } = recorder();
  const decoder = new FrameDecoder(1000, handler);
  const big = clientFrame(OP_BINARY, new Uint8Array(1001));
  decoder.push(big.subarray(0, 10));
  deepEqual(events, ["fail:1009:line-too-long"]);
  equal(decoder.bufferedBytes, 0);
  decoder.push(big.subarray(10));
  equal(events.length, 1, "nothing after a failure");
});

Deno.test("fragments over the bound together fail too", () => {
  const { events, handler } = recorder();
  const decoder = new FrameDecoder(10, handler);
  decoder.push(clientFrame(OP_TEXT, text("123456"), { fin: false }));
  decoder.push(clientFrame(OP_CONTINUATION, text("789012")));
  deepEqual(events, ["fail:1009:line-too-long"]);
});

Deno.test("breaches of the protocol fail the connection with a code and reason", () => {
  const cases: [Uint8Array, string][] = [
    [
      clientFrame(OP_TEXT, text("x"), { mask: false }),
      "fail:1002:client frames must be masked",
    ],
    [
      clientFrame(OP_TEXT, Uint8Array.of(0xff)),
      "fail:1007:text message is not valid UTF-8",
    ],
    [
      clientFrame(OP_CONTINUATION, text("x")),
      "fail:1002:a continuation with no message",
    ],
    [clientFrame(0x3, text("x")), "fail:1002:unknown opcode 3"],
    [clientFrame(OP_PING, new Uint8Array(126)), "fail:1002:bad control frame"],
  ];
  for (const [wire, expected] of cases) {
    const { events, handler } = recorder();
    new FrameDecoder(1024, handler).push(wire);
    deepEqual(events, [expected]);
  }
});

Deno.test("a close frame gives its code and reason", () => {
  const { events, handler } = recorder();
  const payload = new Uint8Array([0x03, 0xe8, ...text("bye")]);
  new FrameDecoder(1024, handler).push(clientFrame(OP_CLOSE, payload));
  deepEqual(events, ["close:1000:bye"]);
});

Deno.test("relayed lines become one frame each: text if UTF-8, else binary", () => {
  const frames = encodeLineFrames(
    new Uint8Array([
      ...text("hi\r\n"),
      0xff,
      0x0d,
      0x0d,
      0x0a,
      ...text("\r\n"),
    ]),
  );
  deepEqual(
    frames,
    Uint8Array.of(
      0x81,
      2,
      0x68,
      0x69, // "hi"
      0x82,
      2,
      0xff,
      0x0d, // binary, the CR before CR LF is content
      0x81,
      0, // the empty line
    ),
  );
  const long = encodeLineFrames(
    new Uint8Array([...new Uint8Array(300).fill(0x61), 0x0d, 0x0a]),
  );
  deepEqual([...long.subarray(0, 4)], [0x81, 126, 1, 44]);
  equal(long.length, 304);
});
