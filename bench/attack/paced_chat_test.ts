import { equal, ok } from "node:assert/strict";
import { serve } from "../../server/chat_server.ts";
import { Logger } from "../../server/logger.ts";
import { PacedChat } from "./paced_chat.ts";

Deno.test("PacedChat: members join, chat on schedule, and every delivery is accounted for", async () => {
  const server = serve({
    port: 0,
    logger: new Logger({ quiet: true, write: () => {} }),
  });
  const conns = await Promise.all(
    [0, 1, 2].map(() =>
      Deno.connect({ hostname: "127.0.0.1", port: server.addr.port })
    ),
  );
  const chat = new PacedChat(conns, { rate: 50, phases: ["a", "b"] });
  try {
    equal(await chat.join(), true);
    chat.start();
    await new Promise((r) => setTimeout(r, 300));
    chat.setPhase("b");
    await new Promise((r) => setTimeout(r, 300));
    await chat.stopSending();
    await chat.drain(2000);
    const a = chat.accounting();
    ok(a.linesSent >= 3 * 50 * 0.5, `${a.linesSent} lines sent`);
    equal(a.expected, a.linesSent * 2);
    equal(a.delivered, a.expected);
    equal(a.duplicated + a.reordered + a.echoed + chat.foreign, 0);
    const latency = chat.latency();
    equal(latency.a.count + latency.b.count, a.delivered);
    ok(latency.b.count > 0);
    equal(chat.cuts().filter((c) => c !== undefined).length, 0);
  } finally {
    await chat.close();
    await server.shutdown();
  }
});
