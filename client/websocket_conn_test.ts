// The client library over WebSocket (PROTOCOL.md §6), against the real
// server's /ws on loopback: a ws:// target chats with TCP clients, byte for
// byte, stops reading for real, and reports the server's close reason.

import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { Logger } from "../server/logger.ts";
import { listen } from "../server/mod.ts";
import { connect } from "./chat_client.ts";
import type { WebSocketConn } from "./websocket_conn.ts";

async function start(options: Parameters<typeof listen>[0] = {}) {
  const server = await listen({
    port: 0,
    httpPort: 0,
    logger: new Logger({ format: "json", write: () => {} }),
    ...options,
  });
  return {
    server,
    ws: `ws://127.0.0.1:${server.httpAddr!.port}/ws`,
    tcp: `127.0.0.1:${server.addr.port}`,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

Deno.test("connect(ws://…) joins the room: lines both ways, binary lines, no echo", async () => {
  await using t = await start();
  const web = await connect(t.ws);
  const tcp = await connect(t.tcp);
  await until(() => t.server.clientCount === 2, "two clients");
  await web.send("hello from the web");
  await web.write(Uint8Array.of(0xff, 0x00, 0x0d, 0x0a)); // CR LF ends it
  equal((await tcp.readLine({ timeoutMs: 2000 }))?.text, "hello from the web");
  deepEqual(
    (await tcp.readLine({ timeoutMs: 2000 }))?.bytes,
    Uint8Array.of(0xff, 0x00),
  );
  await tcp.write("from tcp\r\npart");
  await tcp.write("ial\n");
  const first = await web.readLine({ timeoutMs: 2000 });
  deepEqual([first?.text, first?.crlf], ["from tcp", true]);
  equal((await web.readLine({ timeoutMs: 2000 }))?.text, "partial");
  await tcp.send("last");
  equal(
    (await web.readLine({ timeoutMs: 2000 }))?.text,
    "last",
    "no echo before it",
  );
  web.close();
  tcp.close();
});

Deno.test("a line over the limit: the server's close code and reason are kept", async () => {
  await using t = await start({ maxLineBytes: 16 });
  const web = await connect(t.ws);
  await web.send("x".repeat(17));
  equal(await web.readLine({ timeoutMs: 2000 }), null);
  const conn = web.conn as WebSocketConn;
  equal(conn.closeCode, 1009);
  match(conn.closeReason, /line-too-long/);
  web.close();
});

Deno.test("closeWrite sends a close frame; what the server sent before still reads", async () => {
  await using t = await start();
  const web = await connect(t.ws);
  const tcp = await connect(t.tcp);
  await until(() => t.server.clientCount === 2, "two clients");
  await tcp.send("before");
  await until(() => t.server.stats.linesReceived === 1, "the line in");
  await web.closeWrite();
  equal((await web.readLine({ timeoutMs: 2000 }))?.text, "before");
  equal(await web.readLine({ timeoutMs: 2000 }), null);
  equal((web.conn as WebSocketConn).closeCode, 1000);
  web.close();
  tcp.close();
});

Deno.test("a WebSocket client that stops reading is cut as a slow consumer, others keep receiving", async () => {
  await using t = await start({
    maxLineBytes: 4096,
    // Above what a reader that keeps up may hold while a sender is held
    // back: a sender window (256 KiB), a read's batch and one write out.
    maxPendingBytes: 1024 * 1024,
    writeTimeoutMs: 60_000,
  });
  const idle = await connect(t.ws); // never reads
  const reader = await connect(t.ws);
  const sender = await connect(t.tcp);
  await until(() => t.server.clientCount === 3, "three clients");
  const line = "y".repeat(1000);
  const cut = () => (t.server.stats.closes["slow-consumer"] ?? 0) === 1;
  // Until the idle one is cut (kernel buffers hold a few MB first), at
  // most 64 MB; the reader must get every line all the same.
  let sent = 0;
  const reading = (async () => {
    let got = 0;
    while ((await reader.readLine({ timeoutMs: 10_000 }))?.text === line) {
      got++;
      if (got === sent && cut()) break;
    }
    return got;
  })();
  while (!cut() && sent < 64_000) {
    await sender.sendMany(Array(500).fill(line));
    sent += 500;
  }
  await sender.send("z");
  equal(await reading, sent, "the reader got every line");
  ok(cut(), "the idle one was cut");
  equal(t.server.stats.closes["slow-consumer"], 1, "and only it");
  idle.close();
  reader.close();
  sender.close();
});

Deno.test("a server that does not upgrade: one clear error, and the socket is closed", async () => {
  await using t = await start();
  await rejects(
    connect(`ws://127.0.0.1:${t.server.httpAddr!.port}/nope`),
    (error: Error) => {
      ok(
        /refused the WebSocket upgrade: "HTTP\/1\.1 404/.test(error.message),
        error.message,
      );
      return true;
    },
  );
  // The line port is not HTTP: it never answers the upgrade.
  await rejects(
    connect(`ws://${t.tcp}/ws`, { handshakeTimeoutMs: 300 }),
    /no answer to the WebSocket upgrade within 300 ms/,
  );
});
