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
    path: "/",
  });
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
    equal(b.kind, "websocket");
    const received: string[] = [];
    if (b.kind === "websocket") {
      b.onMessage = (data) =>
        received.push(typeof data === "string" ? data : "binary");
    }
    ok(await until(() => server.clientCount === 3));
    await a.writeLines(new TextEncoder().encode("one\ntwo\nthree\n"));
    ok(await until(() => received.length === 3));
    deepEqual(received, ["one", "two", "three"]);
    // The silent client is in the room too: the server wrote to it.
    equal(silent.kind, "stream");
  } finally {
    a.close();
    b.close();
    silent.close();
    await server.shutdown();
  }
});
