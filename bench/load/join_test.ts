import { deepEqual, equal, ok } from "node:assert/strict";
import { Logger } from "../../server/logger.ts";
import { serve } from "../../server/chat_server.ts";
import { RunClock } from "./clock.ts";
import { type LoadConnection, StreamConnection } from "./connection.ts";
import { type Joinable, JoinDetector, joinRoom, localRoom } from "./join.ts";
import { ReceiverSet } from "./receivers.ts";

const client = (index: number): Joinable => ({
  index,
  conn: undefined as unknown as LoadConnection,
  joined: false,
  done: false,
});

function check(join: JoinDetector, receiver: Joinable, text: string) {
  const bytes = new TextEncoder().encode(`--${text}--`);
  return join.check(receiver, bytes, 2, bytes.length - 2);
}

Deno.test("a probe from someone else joins a client; its own probe is a probe, not a join", () => {
  const join = new JoinDetector("jn01");
  const first = client(1);
  equal(check(join, first, "jn01!1"), true);
  equal(first.joined, false);
  equal(check(join, first, "jn01!0"), true);
  equal(first.joined, true);
  equal(check(join, first, "jn01!0"), true);
  equal(join.joinedCount, 1, "counted once");
  ok(join.lastProbeEpochMs > 0);
});

Deno.test("lines that are not this run's probes are not probes", () => {
  const join = new JoinDetector("jn01");
  const other = client(2);
  deepEqual(
    ["jn02!1", "jn01!", "jn01!1x", "jn01:1", "jn01"].map((text) =>
      check(join, other, text)
    ),
    [false, false, false, false, false],
  );
  deepEqual(new TextDecoder().decode(join.probe(12)), "jn01!12\n");
});

Deno.test("joinRoom probes until every client of our server has heard another", async () => {
  const server = serve({
    port: 0,
    logger: new Logger({ quiet: true, write: () => {} }),
  });
  const join = new JoinDetector("jn03");
  const receivers = new ReceiverSet({
    tag: "jn03",
    size: 64,
    senders: 0,
    clock: new RunClock(),
    window: { startUs: Infinity, endUs: Infinity },
    join,
    phase: () => "join",
    readBufferBytes: 4096,
    maxLineBytes: 1024,
  });
  try {
    for (let i = 0; i < 5; i++) {
      receivers.add(
        new StreamConnection(await Deno.connect({ port: server.addr.port })),
      );
    }
    equal(
      await joinRoom({
        room: localRoom(receivers.receivers, join),
        timeoutMs: 5000,
      }),
      null,
    );
    equal(join.joinedCount, 5);
    equal(receivers.tally.foreign, 0, "probes are not foreign lines");
  } finally {
    await receivers.close();
    await server.shutdown();
  }
});

Deno.test("joinRoom gives up in time when nobody relays", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const silent: Deno.Conn[] = [];
  (async () => {
    for await (const conn of listener) silent.push(conn);
  })();
  const conns = [
    await Deno.connect({ port }),
    await Deno.connect({ port }),
  ];
  const receivers = conns.map((conn, index) => ({
    ...client(index),
    conn: new StreamConnection(conn),
  }));
  const failure = await joinRoom({
    room: localRoom(receivers, new JoinDetector("jn04")),
    timeoutMs: 300,
  });
  equal(failure, "join timed out: 2 of 2 clients never received a line");
  for (const conn of [...conns, ...silent]) conn.close();
  listener.close();
});
