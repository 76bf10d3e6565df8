// PROTOCOL.md §6 over real sockets: WebSocket clients at /ws are members of
// the room like TCP clients, with the same limits.

import { deepEqual, equal, match, ok } from "node:assert/strict";
import {
  clientFrame,
  fastReader,
  openWebSocket,
  rawWebSocket,
  readLines,
  spawnFlooder,
  startServer,
  type TestServer,
  waitFor,
} from "./_testing.ts";

const encoder = new TextEncoder();

function wsUrl(t: TestServer): string {
  return `ws://127.0.0.1:${t.server.httpAddr!.port}/ws`;
}

Deno.test("§6.1 §6.2 WebSocket and TCP clients chat both ways, byte for byte, without echo", async () => {
  await using t = await startServer({ httpPort: 0 });
  const [tcp] = await t.clients(1);
  const a = await openWebSocket(wsUrl(t));
  const b = await openWebSocket(wsUrl(t));
  await waitFor(() => t.server.clientCount === 3, "three clients");
  equal(t.server.clientsByKind.ws, 2);
  await tcp.write(Uint8Array.of(0x68, 0x69, 0x0a, 0xff, 0x0d, 0x0a, 0x0a));
  a.socket.send("from a");
  a.socket.send(Uint8Array.of(0x00, 0xfe, 0x0d)); // not UTF-8; a CR as content
  a.socket.send("");
  deepEqual(
    await readLines(tcp, 3),
    ["from a", "\0\ufffd\r", ""].map((s) => s),
  );
  await waitFor(() => b.received.length === 6, "b's six lines");
  deepEqual(b.received.slice(0, 3), ["hi", Uint8Array.of(0xff), ""]);
  deepEqual(b.received.slice(3), [
    "from a",
    Uint8Array.of(0x00, 0xfe, 0x0d),
    "",
  ]);
  deepEqual(a.received, ["hi", Uint8Array.of(0xff), ""], "a: no echo");
  a.socket.close();
  b.socket.close();
  await Promise.all([a.closed, b.closed]);
});

Deno.test("§6.3 a message holding LF closes the client with 1007, and nothing of it is relayed", async () => {
  await using t = await startServer({ httpPort: 0 });
  const [tcp] = await t.clients(1);
  const ws = await openWebSocket(wsUrl(t));
  await waitFor(() => t.server.clientCount === 2, "two clients");
  ws.socket.send("one\ntwo");
  const closed = await ws.closed;
  equal(closed.code, 1007);
  match(closed.reason, /^protocol-error: a line cannot hold LF/);
  equal(t.server.stats.closes["protocol-error"], 1);
  equal(await tcp.readLine({ timeoutMs: 200 }).catch(() => "none"), "none");
});

Deno.test("§6.3 a text frame that is not UTF-8 closes with 1007", async () => {
  await using t = await startServer({ httpPort: 0 });
  const raw = await rawWebSocket(t.server.httpAddr!.port);
  await raw.write(clientFrame(0x1, Uint8Array.of(0x61, 0xff)));
  const frame = new Uint8Array(256);
  const n = await raw.read(frame);
  equal(frame[0], 0x88, "a close frame");
  equal((frame[2] << 8) | frame[3], 1007);
  ok(n! > 4);
  raw.close();
});

Deno.test("§6.4 a message over the line limit closes with 1009; nothing of it is relayed", async () => {
  await using t = await startServer({ httpPort: 0, maxLineBytes: 1000 });
  const [tcp] = await t.clients(1);
  const ws = await openWebSocket(wsUrl(t));
  await waitFor(() => t.server.clientCount === 2, "two clients");
  ws.socket.send("x".repeat(1000)); // at the limit: relayed
  deepEqual(await readLines(tcp, 1), ["x".repeat(1000)]);
  ws.socket.send("y".repeat(1001));
  const closed = await ws.closed;
  equal(closed.code, 1009);
  match(closed.reason, /^line-too-long/);
  equal(t.server.stats.closes["line-too-long"], 1);
  equal(await tcp.readLine({ timeoutMs: 200 }).catch(() => "none"), "none");
});

Deno.test("§6.5 a WebSocket client that stops reading is cut as a slow consumer; the others keep receiving", async () => {
  await using t = await startServer({
    httpPort: 0,
    maxPendingBytes: 1024 * 1024,
    senderWaitMs: 100,
  });
  const stuck = await rawWebSocket(t.server.httpAddr!.port);
  const reader = await openWebSocket(wsUrl(t));
  const [sender] = await t.clients(1);
  await waitFor(() => t.server.clientCount === 3, "three clients");
  const line = "z".repeat(64 * 1024 - 1) + "\n";
  let sent = 0;
  while (t.server.stats.closes["slow-consumer"] === 0 && sent < 2000) {
    await sender.write(encoder.encode(line));
    sent++;
  }
  equal(t.server.stats.closes["slow-consumer"], 1);
  await waitFor(
    () => reader.received.length === sent,
    "every line at the reader",
    20_000,
  );
  stuck.close();
  reader.socket.close();
  await reader.closed;
});

Deno.test("§6.5 §4.9 a WebSocket flooder is slowed, not cut, and a TCP reader gets every line", async () => {
  await using t = await startServer({ httpPort: 0, senderWaitMs: 60_000 });
  const reader = await fastReader(t.port, "f");
  const ws = await openWebSocket(wsUrl(t));
  // A client that never reads holds the flooder's window full: flood
  // control must stop reading the WebSocket sender, which Deno's own
  // WebSocket could not.
  const stuck = await Deno.connect({ hostname: "127.0.0.1", port: t.port });
  await waitFor(() => t.server.clientCount === 3, "three clients");
  const line = "f".repeat(16 * 1024);
  const count = 1000; // 16 MiB: more than the kernel holds for `stuck`
  for (let i = 0; i < count; i++) ws.socket.send(line);
  await waitFor(
    () => t.server.stats.floodPauses > 0,
    "the sender paused",
    20_000,
  );
  ok(reader.lines < count, "it was paused before the end");
  stuck.close(); // the window empties; the flood goes on
  await waitFor(
    () => reader.lines >= count,
    "every line at the reader",
    30_000,
  );
  equal(t.server.stats.closes["protocol-error"], 0);
  equal(ws.socket.readyState, WebSocket.OPEN, "the flooder was not cut");
  reader.conn.close();
  ws.socket.close();
  await Promise.all([ws.closed, reader.done]);
});

Deno.test("§6.6 close codes say why: 1013 when full, 1001 on shutdown", async () => {
  const t = await startServer({ httpPort: 0, maxClients: 1 });
  const first = await openWebSocket(wsUrl(t));
  await waitFor(() => t.server.clientCount === 1, "one client");
  const refused = await openWebSocket(wsUrl(t));
  const why = await refused.closed;
  equal(why.code, 1013);
  match(why.reason, /^server-full/);
  await t[Symbol.asyncDispose]();
  const shutdown = await first.closed;
  equal(shutdown.code, 1001);
  match(shutdown.reason, /^shutdown/);
});

Deno.test("§6.7 a client's close frame: its lines before are relayed, and it leaves as eof", async () => {
  await using t = await startServer({ httpPort: 0 });
  const [tcp] = await t.clients(1);
  const ws = await openWebSocket(wsUrl(t));
  await waitFor(() => t.server.clientCount === 2, "two clients");
  ws.socket.send("last words");
  ws.socket.close(1000, "bye");
  deepEqual(await readLines(tcp, 1), ["last words"]);
  equal((await ws.closed).code, 1000);
  await waitFor(() => t.server.stats.closes.eof === 1, "the leave");
});

Deno.test("a TCP flooder in its own process reaches WebSocket readers whole, and none is cut", async () => {
  await using t = await startServer({ httpPort: 0 });
  const readers = await Promise.all(
    [1, 2, 3].map(() => openWebSocket(wsUrl(t))),
  );
  await waitFor(() => t.server.clientCount === 3, "three readers");
  // 100-byte lines: the readers here are Deno WebSockets, one event per
  // message, and must keep up on a loaded machine.
  const line = "w".repeat(100) + "\n";
  const flooded = await spawnFlooder(t.port, 1000, line);
  ok(/^\d+$/.test(flooded), flooded);
  // The write in flight at the flooder's exit may add lines past its count.
  const lines = Math.floor(Number(flooded) / line.length);
  await waitFor(
    () => readers.every((r) => r.received.length >= lines),
    "every line at every WebSocket reader",
    60_000,
  );
  await waitFor(
    () =>
      readers.every((r) => r.received.length === readers[0].received.length),
    "the same lines at every reader",
  );
  for (const r of readers) {
    ok(r.received.every((got) => got === line.slice(0, -1)), "lines whole");
  }
  equal(t.server.stats.closes["slow-consumer"], 0);
  for (const r of readers) r.socket.close();
  await Promise.all(readers.map((r) => r.closed));
});

Deno.test("§6.8 a client that pings without reading holds one pong, not one per ping; its pings count as input", async () => {
  // Unpaced, to see what the pongs alone cost.
  await using t = await startServer({ httpPort: 0, maxControlRate: 0 });
  const [a, b] = await t.clients(2);
  const raw = await rawWebSocket(t.server.httpAddr!.port);
  await waitFor(() => t.server.clientCount === 3, "three clients");
  // 200,000 pings of 125 bytes, each carrying its number: 26 MB, far more
  // pongs than the kernel's buffers hold while the client does not read.
  const pings = 200_000;
  const perWrite = 1000;
  const frameBytes = 6 + 125;
  const chunk = new Uint8Array(perWrite * frameBytes);
  const payload = new Uint8Array(125);
  const bytesInBefore = t.server.stats.bytesIn;
  for (let first = 0; first < pings; first += perWrite) {
    for (let i = 0; i < perWrite; i++) {
      new DataView(payload.buffer).setUint32(0, first + i);
      chunk.set(clientFrame(0x9, payload), i * frameBytes);
    }
    for (let at = 0; at < chunk.length;) {
      at += await raw.write(chunk.subarray(at));
    }
  }
  await waitFor(
    () => t.server.stats.bytesIn - bytesInBefore >= pings * frameBytes,
    "every ping taken as input",
    20_000,
  );
  // The room is unaffected.
  await a.send("still here");
  deepEqual(await readLines(b, 1), ["still here"]);
  // Now read: pongs (127 bytes each, unmasked) up to the last ping's.
  const buffer = new Uint8Array(1 << 20);
  let pending = new Uint8Array(0);
  let pongs = 0;
  let last = -1;
  while (last !== pings - 1) {
    const n = await raw.read(buffer);
    if (n === null) throw new Error(`closed after ${pongs} pongs`);
    const bytes = new Uint8Array(pending.length + n);
    bytes.set(pending);
    bytes.set(buffer.subarray(0, n), pending.length);
    let at = 0;
    for (; at + 127 <= bytes.length; at += 127) {
      equal(bytes[at], 0x8a, "a pong");
      equal(bytes[at + 1], 125);
      last = new DataView(bytes.buffer, at + 2).getUint32(0);
      pongs++;
    }
    pending = bytes.slice(at);
  }
  ok(pongs < pings / 4, `${pongs} pongs for ${pings} pings`);
  raw.close();
});

Deno.test("§6.8 --max-input-rate bytes cover pings: a pinger is paused like a sender", async () => {
  await using t = await startServer({
    httpPort: 0,
    maxInputRate: { linesPerSecond: 1000, bytesPerSecond: 64 * 1024 },
    maxControlRate: 0,
  });
  const raw = await rawWebSocket(t.server.httpAddr!.port);
  await waitFor(() => t.server.clientCount === 1, "the pinger");
  const ping = clientFrame(0x9, new Uint8Array(125));
  const chunk = new Uint8Array(ping.length * 1000); // 131 KB: two seconds'
  for (let i = 0; i < 1000; i++) chunk.set(ping, i * ping.length);
  for (let at = 0; at < chunk.length;) {
    at += await raw.write(chunk.subarray(at));
  }
  await waitFor(() => t.server.stats.inputThrottles > 0, "the pinger paused");
  raw.close();
});

/** A client frame with FIN clear: a fragment that more will follow. */
function fragment(opcode: number, payload: Uint8Array): Uint8Array {
  const frame = clientFrame(opcode, payload);
  frame[0] &= 0x7f;
  return frame;
}

Deno.test("§6.8 frames that carry no line are paced (--max-control-rate); the room is not slowed", async () => {
  await using t = await startServer({ httpPort: 0, maxControlRate: 1000 });
  const [a, b] = await t.clients(2);
  const raw = await rawWebSocket(t.server.httpAddr!.port);
  await waitFor(() => t.server.clientCount === 3, "three clients");
  // An unfinished message, then empty continuation frames as fast as the
  // socket takes them: they carry nothing, each costs a frame's work.
  await raw.write(fragment(0x1, encoder.encode("x")));
  const empty = fragment(0x0, new Uint8Array(0));
  const chunk = new Uint8Array(empty.length * 10_000);
  for (let i = 0; i < 10_000; i++) chunk.set(empty, i * empty.length);
  const writing = (async () => {
    try {
      for (let i = 0; i < 20; i++) {
        for (let at = 0; at < chunk.length;) {
          at += await raw.write(chunk.subarray(at));
        }
      }
    } catch {
      // Closed at the end.
    }
  })();
  await waitFor(
    () => t.server.stats.controlThrottles > 0,
    "the fragment flood paced",
  );
  await a.send("still here");
  deepEqual(await readLines(b, 1), ["still here"]);
  // 200,000 frames at 1,000 a second: far from read yet.
  ok(t.server.stats.bytesIn < 200_000 * empty.length, "not read at once");
  raw.close();
  await writing;
});

Deno.test("§4.12 §6.8 a WebSocket client holding an unfinished message is cut by --line-timeout, pings or not", async () => {
  await using t = await startServer({ httpPort: 0, lineTimeoutMs: 300 });
  const raw = await rawWebSocket(t.server.httpAddr!.port);
  await waitFor(() => t.server.clientCount === 1, "the client");
  await raw.write(fragment(0x1, encoder.encode("never finished")));
  const pinging = setInterval(() => {
    raw.write(clientFrame(0x9, new Uint8Array(0))).catch(() => {});
  }, 50);
  await waitFor(
    () => t.server.stats.closes["line-timeout"] === 1,
    "cut for its unfinished line",
  );
  clearInterval(pinging);
  raw.close();
});
