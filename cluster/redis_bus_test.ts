// The cluster's guarantees, clause by clause, with real redis-server
// processes on loopback and nodes (server + bus) in this process.

import { freePort } from "../lib/free_port.ts";
import { Buffer } from "node:buffer";
import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { createClient } from "redis";
import { Logger } from "../server/logger.ts";
import {
  busMessage,
  closeAll,
  delay,
  join,
  lineWithin,
  readLines,
  readTexts,
  redisTest,
  startNode,
  type TestNode,
  waitFor,
  withNodes,
} from "./_testing.ts";
import { newNodeId } from "./message.ts";
import {
  connectRedisBus,
  type RedisBusOptions,
  RedisUnavailableError,
} from "./redis_bus.ts";
import { startRedisServer } from "./redis_server.ts";
import { roomChannel } from "./redis_url.ts";

/**
 * Runs `fn` with one node on a Redis of its own and `publish`, which
 * publishes to the node's channel through a raw Redis client, as another
 * node would.
 */
function withPublisher(
  options: Partial<RedisBusOptions>,
  fn: (
    node: TestNode,
    publish: (message: Uint8Array) => Promise<unknown>,
  ) => Promise<void>,
): Promise<void> {
  return withNodes(1, async ([node], redis) => {
    const publisher = createClient({ url: redis.url });
    await publisher.connect();
    try {
      await fn(node, (message) =>
        publisher.publish(
          node.bus.channel,
          Buffer.from(message.buffer, message.byteOffset, message.length),
        ));
    } finally {
      await publisher.close();
    }
  }, { bus: options });
}

const encoder = new TextEncoder();

Deno.test("Redis unreachable at start: a one-line RedisUnavailableError", async () => {
  const port = freePort();
  await rejects(
    connectRedisBus({
      url: `redis://127.0.0.1:${port}`,
      logger: new Logger({ write: () => {} }),
    }),
    (error: Error) => {
      ok(error instanceof RedisUnavailableError);
      match(
        error.message,
        /^cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+: /,
      );
      equal(error.message.includes("\n"), false);
      return true;
    },
  );
});

redisTest(
  "two nodes: §2.1 §2.2 §2.3 a line reaches every other client of the room once, on both nodes",
  () =>
    withNodes(2, async (nodes) => {
      const [a1, a2] = [await join(nodes[0]), await join(nodes[0])];
      const [b1, b2] = [await join(nodes[1]), await join(nodes[1])];
      await a1.send("hello from a1");
      deepEqual(await readTexts(b2, 1), ["hello from a1"]);
      await b2.send("hello from b2");
      deepEqual(await readTexts(a2, 2), ["hello from a1", "hello from b2"]);
      deepEqual(await readTexts(b1, 2), ["hello from a1", "hello from b2"]);
      deepEqual(await readTexts(a1, 1), ["hello from b2"]);
      for (const client of [a1, a2, b1, b2]) {
        equal(
          await lineWithin(client, 150),
          undefined,
          "no echo, no duplicate",
        );
      }
      await waitFor(
        () => nodes[0].bus.stats.ownMessagesSkipped >= 1,
        "own message",
      );
      equal(nodes[0].bus.stats.linesPublished, 1);
      equal(nodes[1].bus.stats.linesReceived, 1);
      for (const client of [a1, a2, b1, b2]) client.close();
    }),
);

redisTest(
  "three nodes: §2.3 §2.6 §2.7 concurrent senders on every node, exactly once and in order per sender",
  () =>
    withNodes(3, async (nodes) => {
      const LINES = 3000;
      const clients = [];
      for (const node of nodes) {
        clients.push(await join(node), await join(node));
      }
      const received = clients.map(() => new Map<string, number>());
      const errors: string[] = [];
      const expectedTotal = (clients.length - 1) * LINES;
      const readers = clients.map(async (client, index) => {
        for (let n = 0; n < expectedTotal; n++) {
          const line = await client.readLine({ timeoutMs: 20000 });
          if (line === null) throw new Error("closed");
          const [sender, seq] = line.text.split(" ");
          if (sender === `c${index}`) errors.push(`c${index} got its own line`);
          const next = received[index].get(sender) ?? 0;
          if (Number(seq) !== next) {
            errors.push(
              `c${index} got ${line.text}, expected ${sender} ${next}`,
            );
          }
          received[index].set(sender, next + 1);
        }
      });
      await Promise.all(clients.map(async (client, index) => {
        // Uneven segmentation: lines split across writes (§1.4).
        let pending = "";
        for (let seq = 0; seq < LINES; seq++) {
          pending += `c${index} ${seq} ${"x".repeat(seq % 50)}\n`;
          if (pending.length > 700 || seq === LINES - 1) {
            const cut = Math.floor(pending.length / 2);
            await client.write(pending.slice(0, cut));
            await client.write(pending.slice(cut));
            pending = "";
          }
        }
      }));
      await Promise.all(readers);
      deepEqual(errors.slice(0, 5), []);
      for (const [index, counts] of received.entries()) {
        equal(
          counts.size,
          clients.length - 1,
          `c${index} heard every other sender`,
        );
        for (const count of counts.values()) equal(count, LINES);
      }
      for (const client of clients) {
        equal(await lineWithin(client, 150), undefined, "nothing more");
        client.close();
      }
      const published = nodes.reduce(
        (n, node) => n + node.bus.stats.messagesPublished,
        0,
      );
      const lines = nodes.reduce(
        (n, node) => n + node.bus.stats.linesPublished,
        0,
      );
      equal(lines, clients.length * LINES);
      ok(
        published < lines / 4,
        `batched: ${published} PUBLISH for ${lines} lines`,
      );
    }),
);

redisTest(
  "§1.3 §2.4 §2.8 §4.1 bytes cross nodes unchanged: NUL, invalid UTF-8, lone CR, empty and maximum-length lines",
  () =>
    withNodes(2, async (nodes) => {
      const sender = await join(nodes[0]);
      const receiver = await join(nodes[1]);
      const longest = new Uint8Array(65536).map((_, i) =>
        (i * 7) % 256 === 10 ? 11 : (i * 7) % 256
      );
      const lines = [
        Uint8Array.of(0x00),
        Uint8Array.of(0xff, 0xfe, 0xc3, 0x28, 0x80),
        Uint8Array.of(0x61, 0x0d, 0x62),
        Uint8Array.of(0x0d, 0x0d, 0x41),
        new Uint8Array(),
        encoder.encode("\t  spaces and tabs  \t"),
        encoder.encode("héllo wörld ✓ 𝄞"),
        longest,
      ];
      await sender.sendMany(lines.slice(0, 4));
      await sender.write("\r\n"); // an empty line, ended by CR LF
      await sender.write(encoder.encode("\t  spaces and tabs  \t\r\nhéllo"));
      await sender.write(encoder.encode(" wörld ✓ 𝄞\n"));
      await sender.send(longest);
      const got = await readLines(receiver, lines.length);
      deepEqual(got, lines);
      equal(await lineWithin(receiver, 100), undefined);
      sender.close();
      receiver.close();
    }),
);

redisTest(
  "§4.2 an over-long line is never published: no node relays any of it",
  () =>
    withNodes(2, async (nodes) => {
      const [sender, local] = [await join(nodes[0]), await join(nodes[0])];
      const remote = await join(nodes[1]);
      await sender.send("fine");
      deepEqual(await readTexts(remote, 1), ["fine"]);
      deepEqual(await readTexts(local, 1), ["fine"]);
      const published = nodes[0].bus.stats.linesPublished;
      await sender.write(new Uint8Array(70_000).fill(0x61));
      await sender.write("b\n").catch(() => {});
      equal(
        await sender.readLine({ timeoutMs: 2000 }),
        null,
        "sender disconnected",
      );
      await local.send("marker");
      deepEqual(await readTexts(remote, 1), ["marker"]);
      equal(await lineWithin(remote, 150), undefined);
      equal(await lineWithin(local, 50), undefined);
      equal(
        nodes[0].bus.stats.linesPublished,
        published + 1,
        "only the marker",
      );
      equal(nodes[0].server.stats.closes["line-too-long"], 1);
      sender.close();
      local.close();
      remote.close();
    }),
);

redisTest(
  "§2.9 a client never receives another node's line completed before it connected",
  async () => {
    await withPublisher({}, async (node, publish) => {
      const old = await join(node);
      const between = Date.now();
      await delay(20);
      const client = await join(node);
      const joinedAt = [...node.server.room.members()].at(-1)!.connectedAt;
      const other = newNodeId();
      // Completed (on the other node) before `client` connected, after
      // `old` did; in flight when `client` joined: only `old` gets it.
      await publish(busMessage(other, 0, 1, ["between", between]));
      // Completed within joinSlackMs (2) of the accept: the client's TCP
      // connection was already up then, so it gets it.
      await publish(busMessage(other, 1, 2, ["at the accept", joinedAt - 1]));
      await publish(busMessage(other, 2, 3, ["after", Date.now()]));
      deepEqual(await readTexts(old, 3), ["between", "at the accept", "after"]);
      deepEqual(await readTexts(client, 2), ["at the accept", "after"]);
      equal(await lineWithin(client, 100), undefined);
      old.close();
      client.close();
    });
  },
);

redisTest(
  "a receiving node drops and counts another node's lines older than maxDelayMs, counts lines missed from the line marks, warns of a clock ahead, and drops a replayed message",
  async () => {
    await withPublisher({ maxDelayMs: 1000 }, async (node, publish) => {
      const client = await join(node);
      const other = newNodeId();
      const message = (
        seq: number,
        mark: number,
        ...lines: [string, number][]
      ) => publish(busMessage(other, seq, mark, ...lines));
      const now = Date.now();
      await message(0, 1, ["first", now]);
      // Lines 2 and 3 never came (their node did not publish them); 4 is
      // too old, 5 in time.
      await message(1, 5, ["stale", now - 1500], ["fresh", now]);
      // Stamped by a clock 500 ms ahead: delivered, and logged.
      await message(2, 6, ["ahead", Date.now() + 500]);
      // A replay of message 1 (sequence behind): never delivered twice.
      await message(1, 5, ["stale", now - 1500], ["fresh", now]);
      await message(3, 7, ["last", Date.now()]);
      deepEqual(await readTexts(client, 4), [
        "first",
        "fresh",
        "ahead",
        "last",
      ]);
      equal(await lineWithin(client, 100), undefined);
      const { stats } = node.bus;
      deepEqual(
        [stats.linesReceived, stats.linesLate, stats.linesMissed],
        [4, 1 + 2, 2],
      );
      equal(stats.messagesMissed, 0);
      ok(stats.maxReceivedAgeMs <= 1000);
      client.close();
      await node.close();
      const late = node.events.filter((e) => e.event === "cluster-late");
      equal(late.reduce((n, e) => n + Number(e.lines_late), 0), 3);
      ok(Number(late[0].age_ms) >= 1500);
      const gap = node.events.find((e) => e.event === "cluster-gap");
      deepEqual([gap?.lines_missed, gap?.messages_missed], [2, 0]);
      const skew = node.events.find((e) => e.event === "cluster-clock-skew");
      ok(Number(skew?.ahead_ms) > 300, JSON.stringify(skew));
    });
  },
);

redisTest(
  "messages not in the bus format are ignored and counted",
  async () => {
    await withPublisher({}, async (node, publish) => {
      const client = await join(node);
      await publish(encoder.encode("hello from redis-cli, not a bus message"));
      await waitFor(
        () => node.bus.stats.malformedMessages === 1,
        "malformed count",
      );
      equal(await lineWithin(client, 100), undefined);
      ok(node.events.some((e) => e.event === "cluster-malformed"));
      client.close();
    });
  },
);

redisTest("different rooms on one Redis do not hear each other", async () => {
  await using redis = await startRedisServer();
  const lobby = await startNode(redis.url, { room: "lobby" });
  const other = await startNode(redis.url, { room: "other" });
  const lobby2 = await startNode(redis.url, { room: "lobby" });
  try {
    const [a, b, c] = [
      await join(lobby),
      await join(other),
      await join(lobby2),
    ];
    await a.send("lobby only");
    deepEqual(await readTexts(c, 1), ["lobby only"]);
    equal(await lineWithin(b, 150), undefined);
    equal(other.bus.channel, roomChannel("other"));
    for (const client of [a, b, c]) client.close();
  } finally {
    await closeAll([lobby, other, lobby2]);
  }
});

redisTest(
  "Redis killed mid-run: nodes stay up and relay locally; restarted: cross-node relay resumes",
  () =>
    withNodes(2, async (nodes, redis) => {
      const [a1, a2] = [await join(nodes[0]), await join(nodes[0])];
      const b1 = await join(nodes[1]);
      await a1.send("before");
      deepEqual(await readTexts(b1, 1), ["before"]);
      deepEqual(await readTexts(a2, 1), ["before"]);

      await redis.kill();
      await waitFor(
        () => nodes.every((node) => !node.bus.connected),
        "Redis lost",
      );
      // Each connection notices on its own, and logs it once.
      const lost = (role: string) =>
        nodes[0].events.some((e) =>
          e.event === "redis-lost" && e.role === role
        );
      await waitFor(
        () => lost("publisher") && lost("subscriber"),
        "both connections to log redis-lost",
      );

      // Local relay goes on, and new clients can join and chat locally.
      await a1.send("while down 1");
      await a1.sendMany(["while down 2", "while down 3"]);
      deepEqual(await readTexts(a2, 3), [
        "while down 1",
        "while down 2",
        "while down 3",
      ]);
      const a3 = await join(nodes[0]);
      await a3.send("newcomer while down");
      deepEqual(await readTexts(a1, 1), ["newcomer while down"]);
      equal(await lineWithin(b1, 200), undefined, "nothing crosses while down");
      const unpublished = nodes[0].bus.stats.linesUnpublished;
      equal(unpublished, 4);

      await redis.restart();
      await waitFor(
        () => nodes.every((node) => node.bus.connected),
        "reconnect",
        10000,
      );
      const resumed = nodes[0].events.find((e) =>
        e.event === "redis-resumed" && e.role === "publisher"
      );
      equal(resumed?.lines_unpublished, 4);
      // The subscription is renewed just after the connection: probe until
      // a line crosses, then check exactly-once and order again.
      let probes = 0;
      while ((await lineWithin(b1, 100)) === undefined) {
        ok(probes < 50, "cross-node relay resumed");
        await a1.send(`probe ${probes++}`);
      }
      await delay(100);
      while ((await lineWithin(b1, 50)) !== undefined) { /* late probes */ }
      while ((await lineWithin(a2, 20)) !== undefined) { /* drain */ }
      while ((await lineWithin(a3, 20)) !== undefined) { /* drain */ }
      await a1.sendMany(["after 1", "after 2"]);
      deepEqual(await readTexts(b1, 2), ["after 1", "after 2"]);
      await b1.send("from b after");
      deepEqual(await readTexts(a2, 3), ["after 1", "after 2", "from b after"]);
      deepEqual(await readTexts(a1, 1), ["from b after"]);
      for (const client of [a1, a2, a3, b1]) client.close();
    }),
);

redisTest(
  "a subscriber Redis drops as a slow consumer (client-output-buffer-limit pubsub) reconnects; the loss is counted",
  () =>
    withNodes(2, async (nodes) => {
      const a1 = await join(nodes[0]);
      const b1 = await join(nodes[1]);
      await a1.send("small");
      deepEqual(await readTexts(b1, 1), ["small"]);
      // One message far over the 32 kB hard limit: Redis closes every
      // subscriber it would go to (including the sender's own).
      await a1.send("x".repeat(60_000));
      await waitFor(
        () => nodes[1].bus.stats.subscriberDisconnects === 1,
        "subscriber dropped",
      );
      ok(
        nodes[1].events.some((e) =>
          e.event === "redis-lost" && e.role === "subscriber"
        ),
      );
      await waitFor(
        () => nodes.every((node) => node.bus.connected),
        "resubscribed",
      );
      let probes = 0;
      let got: string | undefined;
      while ((got = await lineWithin(b1, 100)) === undefined) {
        ok(probes < 50, "relay resumed");
        await a1.send(`probe ${probes++}`);
      }
      equal(
        got.startsWith("probe"),
        true,
        "the big line was lost, not delivered late",
      );
      ok(nodes[1].bus.stats.messagesMissed >= 1, "the gap was counted");
      ok(nodes[1].events.some((e) => e.event === "cluster-gap"));
      equal(nodes[0].bus.stats.publisherDisconnects, 0);
      a1.close();
      b1.close();
    }, {
      redis: { args: ["--client-output-buffer-limit", "pubsub 32kb 16kb 60"] },
    }),
);

redisTest(
  "close publishes what is queued and logs the counters",
  () =>
    withNodes(2, async (nodes) => {
      const a1 = await join(nodes[0]);
      const b1 = await join(nodes[1]);
      await a1.send("last words");
      deepEqual(await readTexts(b1, 1), ["last words"]);
      a1.close();
      b1.close();
      await closeAll(nodes);
      const closed = nodes[0].events.find((e) => e.event === "cluster-closed");
      equal(closed?.lines_published, 1);
      equal(closed?.lines_unpublished, 0);
      equal(closed?.node, nodes[0].bus.nodeId);
    }),
);
