// PROTOCOL.md §4.9 over real sockets: a client that floods is slowed by
// backpressure, and the readers that keep reading keep every line.

import { deepEqual, equal, ok } from "node:assert/strict";
import {
  fastReader,
  spawnFlooder,
  spawnServer,
  startServer,
  TRANSPORTS,
  transportTest,
  waitFor,
} from "./_testing.ts";

const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const transport of TRANSPORTS) {
  Deno.test(
    `§4.9 a flooder is slowed, not disconnected, and no reader that keeps reading is cut or loses a line [${transport}]`,
    async () => {
      // The server and the flooder run in processes of their own, as in
      // the field: the flooder then writes as fast as the server reads.
      await using server = await spawnServer(["--transport", transport]);
      const readers = await Promise.all(
        Array.from({ length: 8 }, () => fastReader(server.port)),
      );
      // Every reader in the room first: each says hello until every other
      // has heard it (the server admits connections one by one).
      const hello = (i: number) => `pw${i}`;
      for (
        let heard = false;
        !heard;
        heard = readers.every((reader, i) =>
          readers.every((_, j) => i === j || reader.kept.includes(hello(j)))
        )
      ) {
        await Promise.all(
          readers.map((reader, i) =>
            reader.conn.write(encoder.encode(`${hello(i)}\n`))
          ),
        );
        await sleep(20);
      }
      const flooding = spawnFlooder(server.port, 2500);
      // Four readers chat at 20 lines/s each while the flood runs.
      const chatters = readers.slice(0, 4);
      let rounds = 0;
      for (const start = Date.now(); Date.now() - start < 2000; rounds++) {
        await Promise.all(
          chatters.map((reader, i) =>
            // A reader the server cut fails below, with its name.
            reader.conn.write(encoder.encode(`p${i} ${rounds}\n`)).catch(
              () => 0,
            )
          ),
        );
        await sleep(50);
      }
      const flooded = await flooding;
      // Every paced line reaches every other reader, in order: late is
      // fine (the flood queued ahead of it takes a while to read), lost is
      // not.
      const expected = (reader: number) =>
        chatters.flatMap((_, i) =>
          i === reader
            ? []
            : Array.from({ length: rounds }, (_, r) => `p${i} ${r}`)
        );
      await waitFor(
        () =>
          readers.every((r, i) =>
            r.closed ||
            r.kept.filter((line) => !line.startsWith("pw")).length >=
              expected(i).length
          ),
        "every paced line at every reader",
        30_000,
      );
      for (const [i, reader] of readers.entries()) {
        equal(reader.closed, false, `reader ${i} was disconnected`);
        for (const [c] of chatters.entries()) {
          if (c === i) continue;
          deepEqual(
            reader.kept.filter((line) => line.startsWith(`p${c} `)),
            expected(i).filter((line) => line.startsWith(`p${c} `)),
            `p${c}'s lines at reader ${i}`,
          );
        }
      }
      ok(/^\d+$/.test(flooded), `the flooder was cut: ${flooded}`);
      for (const reader of readers) reader.conn.close();
      await Promise.all(readers.map((r) => r.done));
    },
  );
}

transportTest(
  "§4.9 a paused flooder does not slow another sender",
  async (transport) => {
    // A reader that stops reading holds the flooder back for the sender
    // wait; a chatter's lines still reach the reader that reads.
    await using t = await startServer({ transport, senderWaitMs: 60_000 });
    const stuck = await Deno.connect({ hostname: "127.0.0.1", port: t.port });
    const reader = await fastReader(t.port);
    const flooder = await Deno.connect({ hostname: "127.0.0.1", port: t.port });
    const chatter = await Deno.connect({ hostname: "127.0.0.1", port: t.port });
    await waitFor(() => t.server.clientCount === 4, "4 clients");
    let flooding = true;
    const flood = (async () => {
      const lines = encoder.encode("f\n".repeat(32 * 1024));
      while (flooding) await flooder.write(lines);
    })();
    await waitFor(() => t.server.stats.floodPauses > 0, "the flooder paused");
    for (let i = 0; i < 20; i++) {
      await chatter.write(encoder.encode(`p ${i}\n`));
    }
    await waitFor(() => reader.kept.length === 20, "the chatter's 20 lines");
    deepEqual(reader.kept, Array.from({ length: 20 }, (_, i) => `p ${i}`));
    flooding = false;
    for (const conn of [stuck, flooder, chatter, reader.conn]) conn.close();
    await flood.catch(() => {});
    await reader.done;
  },
);
