import { deepEqual, equal, ok } from "node:assert/strict";
import { Logger } from "../../server/logger.ts";
import { serve } from "../../server/chat_server.ts";
import { usageError } from "../_testing.ts";
import {
  connectClient,
  connectSilent,
  formatLoadTarget,
  parseLoadTarget,
} from "./connection.ts";
import { until } from "./_testing.ts";

Deno.test("targets: TCP, TLS and WebSocket, written back as given", () => {
  for (
    const text of [
      "127.0.0.1:7687",
      "tls://localhost:7687",
      "ws://127.0.0.1:7688/ws",
      "wss://[::1]:443/chat?room=a",
    ]
  ) {
    equal(formatLoadTarget(parseLoadTarget(text)), text);
  }
  deepEqual(parseLoadTarget("ws://example.org"), {
    kind: "ws",
    hostname: "example.org",
    port: 80,
    path: "/ws",
  }, "no path means the server's /ws");
  equal(parseLoadTarget("7000").port, 7000);
  equal(
    usageError(() => parseLoadTarget("udp://x:1"), []),
    'bad target "udp://x:1": use HOST:PORT, tls://HOST:PORT or ws://HOST:PORT/PATH',
  );
});

Deno.test("§6.1 over a WebSocket client: each line of a batch is one message, both ways", async () => {
  const server = serve({
    port: 0,
    httpPort: 0,
    logger: new Logger({ quiet: true, write: () => {} }),
  });
  const ws = parseLoadTarget(`ws://127.0.0.1:${server.httpAddr!.port}/ws`);
  const a = await connectClient(ws);
  const b = await connectClient(ws);
  const silent = await connectSilent(ws);
  try {
    ok(await until(() => server.clientCount === 3));
    equal(server.clientsByKind.ws, 3, "all three are WebSocket clients");
    await a.writeLines(new TextEncoder().encode("one\ntwo\nthree\n"));
    // Each message reads as a line ended by CR LF, like a TCP server's.
    let text = "";
    const buffer = new Uint8Array(1024);
    while (text.split("\r\n").length < 4) {
      const n = await b.conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    equal(text, "one\r\ntwo\r\nthree\r\n");
    ok(
      await until(() => server.room.deliveries === 6),
      "the silent one is written to too",
    );
  } finally {
    a.close();
    b.close();
    silent.close();
    await server.shutdown();
  }
});
