// PROTOCOL.md §4.12 over real sockets: per-address, idle and line limits,
// the input-rate cap, and what an idle client holds after a burst.

import { deepEqual, equal, ok } from "node:assert/strict";
import { readLines, startServer, transportTest, waitFor } from "./_testing.ts";

const encoder = new TextEncoder();

function events(log: string[], name: string) {
  return log.map((line) => JSON.parse(line)).filter((e) => e.event === name);
}

/** Waits until the server has closed `conn` (EOF or reset on read). */
async function closedByServer(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(1024);
  try {
    while (await conn.read(buffer) !== null) { /* discard */ }
  } catch {
    // Reset: closed too.
  }
}

transportTest(
  "§4.12 --max-clients-per-ip refuses one more from the same address, and admits again once one leaves",
  async (transport) => {
    await using t = await startServer({ transport, maxClientsPerIp: 2 });
    const [a, b] = await t.clients(2);
    const third = await Deno.connect({ hostname: "127.0.0.1", port: t.port });
    await closedByServer(third);
    third.close();
    equal(t.server.stats.closes["ip-limit"], 1);
    const [reject] = events(t.log, "reject");
    equal(reject.reason, "ip-limit");
    a.close();
    await waitFor(() => t.server.clientCount === 1, "a leaving");
    const [c] = await t.clients(1);
    await c.send("after");
    deepEqual(await readLines(b, 1), ["after"]);
  },
);

transportTest(
  "§4.12 --idle-timeout cuts a client that sends nothing, and spares one that sends",
  async (transport) => {
    await using t = await startServer({ transport, idleTimeoutMs: 300 });
    const [silent, talker] = await t.clients(2);
    const start = Date.now();
    const talking = (async () => {
      while (Date.now() - start < 900) {
        await talker.send("still here");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await waitFor(
      () => t.server.stats.closes["idle-timeout"] === 1,
      "the idle cut",
      3000,
    );
    await talking;
    equal(t.server.clientCount, 1, "the talker is still connected");
    // The silent client got the talker's lines, then its connection ended.
    let line;
    do line = await silent.readLine({ timeoutMs: 2000 }); while (line !== null);
    const [cut] = events(t.log, "disconnect");
    equal(cut.reason, "idle-timeout");
  },
);

transportTest(
  "§4.12 --line-timeout cuts a client that leaves a line unfinished, and relays nothing of it",
  async (transport) => {
    await using t = await startServer({ transport, lineTimeoutMs: 300 });
    const [reader] = await t.clients(1);
    const slow = await Deno.connect({ hostname: "127.0.0.1", port: t.port });
    await waitFor(() => t.server.clientCount === 2, "2 clients");
    const sentAt = Date.now();
    await slow.write(encoder.encode("done\nnever fini"));
    deepEqual(await readLines(reader, 1), ["done"]);
    await closedByServer(slow);
    // Not before its time, however soon after connecting the line began.
    const after = Date.now() - sentAt;
    ok(after >= 250, `cut after ${after} ms of a 300 ms line timeout`);
    slow.close();
    equal(t.server.stats.closes["line-timeout"], 1);
    equal(
      await reader.readLine({ timeoutMs: 200 }).catch(() => "none"),
      "none",
    );
  },
);

transportTest(
  "§4.12 --max-input-rate reads a fast sender more slowly, relays all of it, and never cuts it",
  async (transport) => {
    await using t = await startServer({
      transport,
      maxInputRate: { linesPerSecond: 20 },
    });
    const [sender, reader] = await t.clients(2);
    // 40 lines at once: the first second's 20 and 20 more, then 1 more.
    await sender.write(encoder.encode("x\n".repeat(40)));
    deepEqual(await readLines(reader, 40), Array(40).fill("x"));
    const firstAt = Date.now();
    await sender.send("last");
    deepEqual(await readLines(reader, 1, 5000), ["last"]);
    const waited = Date.now() - firstAt;
    // 20 lines over the bucket at 20/s: about a second of no reading.
    ok(waited >= 700, `the next line came after only ${waited} ms`);
    ok(t.server.stats.inputThrottles >= 1);
    equal(t.server.clientCount, 2);
  },
);
