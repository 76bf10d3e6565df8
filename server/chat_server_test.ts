// The server over real sockets on loopback, one test per protocol clause.

import { deepEqual, equal, ok } from "node:assert/strict";
import net from "node:net";
import type { ChatClient } from "../client/chat_client.ts";
import { readLines, startServer, transportTest, waitFor } from "./_testing.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** The next line's raw bytes and terminator. */
async function nextRaw(client: ChatClient) {
  const line = await client.readLine({ timeoutMs: 5000 });
  if (line === null) throw new Error("unexpected EOF");
  return line;
}

/** Asserts `client` gets `sentinel` next, proving nothing arrived before. */
async function expectNext(client: ChatClient, sentinel: string) {
  equal((await nextRaw(client)).text, sentinel);
}

transportTest(
  "§2.1 §2.2 §2.5 a line reaches every other client, CR LF ended, not the sender",
  async (transport) => {
    await using t = await startServer({ transport });
    const [a, b, c] = await t.clients(3);
    await a.send("hello");
    for (const other of [b, c]) {
      const line = await nextRaw(other);
      equal(line.text, "hello");
      equal(line.crlf, true);
    }
    // Causal proof of no echo: the next thing A receives is B's sentinel.
    await b.send("sentinel");
    await expectNext(a, "sentinel");
  },
);

transportTest(
  "§1.4 lines coalesced in one write and fragmented across many are framed alike",
  async (transport) => {
    await using t = await startServer({ transport });
    const [a, b] = await t.clients(2);
    await a.write("one\ntwo\nthr");
    await a.write("ee\n");
    for (const byte of bytes("four\r\n")) await a.write(Uint8Array.of(byte));
    deepEqual(await readLines(b, 4), ["one", "two", "three", "four"]);
  },
);

transportTest(
  "§1.2 LF and CR LF input are both accepted; output is always CR LF",
  async (transport) => {
    await using t = await startServer({ transport });
    const [a, b] = await t.clients(2);
    await a.write("lf\ncrlf\r\n");
    for (const expected of ["lf", "crlf"]) {
      const line = await nextRaw(b);
      deepEqual([line.text, line.crlf], [expected, true]);
    }
  },
);

transportTest(
  "§1.5 §2.8 an empty line is relayed as exactly one empty line",
  async (transport) => {
    await using t = await startServer({ transport });
    const [a, b] = await t.clients(2);
    await a.write("\n\r\nafter\n");
    deepEqual(await readLines(b, 3), ["", "", "after"]);
  },
);

transportTest(
  "§1.3 §2.4 NUL, invalid UTF-8, lone CR and spaces are relayed byte for byte",
  async (transport) => {
    await using t = await startServer({ transport });
    const [a, b] = await t.clients(2);
    const payload = latin1("\x00 lead\t\xff\xfe\xc3(\rmid  \x00");
    await a.write(new Uint8Array([...payload, 0x0a]));
    deepEqual((await nextRaw(b)).bytes, payload);
  },
);

transportTest(
  "§1.6 a partial line at disconnect is discarded",
  async (transport) => {
    await using t = await startServer({ transport });
    const [a, b, c] = await t.clients(3);
    await a.write("complete\nparti");
    await expectNext(b, "complete");
    a.close();
    await waitFor(() => t.server.clientCount === 2, "A to leave");
    await c.send("sentinel");
    await expectNext(b, "sentinel");
  },
);

transportTest(
  "§5.1 §5.2 after FIN and RST the room carries on and new clients join",
  async (transport) => {
    await using t = await startServer({ transport });
    const [a, b] = await t.clients(2);
    // FIN, with a line sent just before it: the line is still relayed.
    await a.send("last words");
    a.close();
    await expectNext(b, "last words");
    // RST, in the middle of a line.
    const resetter = net.connect(t.port, "127.0.0.1");
    await new Promise((resolve) => resetter.once("connect", resolve));
    await waitFor(() => t.server.clientCount === 2, "the resetter to join");
    await new Promise((resolve) => resetter.write("half a li", resolve));
    resetter.resetAndDestroy();
    await waitFor(
      () => t.server.stats.closes.reset === 1,
      "the reset to be seen",
    );
    const [late] = await t.clients(1);
    await b.send("still here");
    await expectNext(late, "still here");
    await late.send("welcome");
    await expectNext(b, "welcome");
    equal(t.server.stats.closes.eof, 1);
  },
);

transportTest(
  "§5.1 a half-closed client leaves; lines it sent first are relayed",
  async (transport) => {
    await using t = await startServer({ transport });
    const [a, b] = await t.clients(2);
    await a.send("bye");
    await a.closeWrite();
    await expectNext(b, "bye");
    equal(
      await a.readLine({ timeoutMs: 5000 }),
      null,
      "server closes A after its FIN",
    );
    await waitFor(() => t.server.clientCount === 1, "A to be removed");
  },
);

transportTest(
  "§4.2 §4.4 an over-long line: sender disconnected, nothing relayed, others unaffected",
  async (transport) => {
    await using t = await startServer({
      transport,
      maxLineBytes: 1024,
      maxPendingBytes: 64 * 1024,
    });
    const [a, b, c] = await t.clients(3);
    await a.send("before");
    await a.write(new Uint8Array(1025).fill(0x78));
    equal(
      await a.readLine({ timeoutMs: 5000 }).catch(() => null),
      null,
      "A is closed",
    );
    await expectNext(b, "before");
    await c.send("x".repeat(1024)); // exactly the limit still passes
    equal((await nextRaw(b)).bytes.length, 1024);
    await c.send("after");
    await expectNext(b, "after");
    equal(t.server.stats.closes["line-too-long"], 1);
    ok(t.log.some((l) => l.includes('"reason":"line-too-long"')));
  },
);

transportTest(
  "§4.6 §4.7 a client that stops reading is cut off; the others get everything",
  async (transport) => {
    await using t = await startServer({
      transport,
      maxPendingBytes: 256 * 1024,
    });
    const [sender, reader, _stalled] = await t.clients(3);
    const line = "y".repeat(1000);
    // ~20 MB in all, far beyond socket buffers and the limit. The sender keeps
    // pace with the reader, so only the stalled client falls behind.
    for (let batch = 0; batch < 200; batch++) {
      await sender.sendMany(Array.from({ length: 100 }, () => line));
      for (let i = 0; i < 100; i++) {
        equal((await nextRaw(reader)).bytes.length, line.length);
      }
    }
    await waitFor(
      () => t.server.stats.closes["slow-consumer"] === 1,
      "the slow consumer to be cut",
    );
    equal(t.server.clientCount, 2);
  },
);

transportTest(
  "§4.8 over --max-clients a connection is accepted and closed at once",
  async (transport) => {
    await using t = await startServer({ transport, maxClients: 2 });
    const [a, b] = await t.clients(2);
    const extra = await Deno.connect({ port: t.port });
    const buffer = new Uint8Array(16);
    equal(await extra.read(buffer), null, "closed without a byte");
    extra.close();
    equal(t.server.stats.closes["server-full"], 1);
    await a.send("still fine");
    await expectNext(b, "still fine");
  },
);

transportTest(
  "§2.1 1000 concurrent clients all receive a line",
  async (transport) => {
    await using t = await startServer({ transport });
    const clients = await t.clients(1000);
    await clients[0].send("to everyone");
    const lines = await Promise.all(clients.slice(1).map((c) => nextRaw(c)));
    ok(lines.every((l) => l.text === "to everyone"));
    equal(t.server.room.deliveries, 999);
  },
);

transportTest(
  "§2.6 §2.7 concurrent senders: per-sender order kept, lines never merged",
  async (transport) => {
    await using t = await startServer({ transport });
    const [receiver, ...senders] = await t.clients(4);
    const perSender = 300;
    await Promise.all(senders.map(async (s, i) => {
      for (let n = 0; n < perSender; n += 50) {
        // Each batch goes out split mid-line, to interleave with the others.
        const text = Array.from({ length: 50 }, (_, k) =>
          `s${i}-${n + k}`).join("\n") + "\n";
        const cut = Math.floor(text.length / 2);
        await s.write(text.slice(0, cut));
        await s.write(text.slice(cut));
      }
    }));
    const lines = await readLines(receiver, 3 * perSender);
    for (let i = 0; i < 3; i++) {
      const mine = lines.filter((l) => l.startsWith(`s${i}-`));
      deepEqual(
        mine,
        Array.from({ length: perSender }, (_, n) => `s${i}-${n}`),
      );
    }
  },
);

transportTest(
  "§5.4 shutdown flushes what is pending, closes everyone and reports a summary",
  async (transport) => {
    const t = await startServer({ transport });
    const [a, b] = await t.clients(2);
    await a.send("goodbye");
    await expectNext(b, "goodbye");
    const summary = await t.server.shutdown();
    equal(await b.readLine({ timeoutMs: 5000 }), null);
    equal(summary.clients_served, 2);
    equal(summary.lines_relayed, 1);
    equal(summary.closes_shutdown, 2);
    await t[Symbol.asyncDispose]();
  },
);
