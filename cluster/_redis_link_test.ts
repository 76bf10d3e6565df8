// A Redis connection's health on its own, against a real redis-server
// that the tests kill, restart, pause and resume.

import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { freePort } from "../lib/free_port.ts";
import { type LinkRole, RedisLink } from "./_redis_link.ts";
import { captureLogger, delay, redisTest, waitFor } from "./_testing.ts";
import { BusStats } from "./bus_stats.ts";
import {
  type RedisBusOptions,
  resolveRedisBusOptions,
} from "./redis_bus_options.ts";
import { startRedisServer } from "./redis_server.ts";

/** A link to `url` with its counters, events and `onLost` calls. */
function link(
  url: string,
  role: LinkRole,
  options: Partial<RedisBusOptions> = {},
) {
  const { logger, events } = captureLogger();
  const stats = new BusStats();
  const state = { closing: false, losses: 0 };
  const redis = new RedisLink({
    ...resolveRedisBusOptions({ url, logger, ...options }),
    role,
    stats,
    closing: () => state.closing,
    onLost: () => state.losses++,
  });
  const named = (event: string) => events.filter((e) => e.event === event);
  return { link: redis, stats, events, state, named };
}

Deno.test("a link that cannot reach Redis at start rejects and never retries", async () => {
  const l = link(`redis://127.0.0.1:${freePort()}`, "publisher");
  await rejects(l.link.connect());
  await delay(100);
  equal(l.link.up, false);
  deepEqual(l.events, []);
  equal(l.stats.publisherDisconnects, 0);
});

redisTest(
  "Redis killed: the link logs redis-lost once, counts what goes unpublished, and logs redis-resumed with it once back",
  async () => {
    await using redis = await startRedisServer();
    const l = link(redis.url, "publisher");
    await l.link.connect();
    equal(l.link.up, true);
    l.link.countUnpublished(5);
    await redis.kill();
    await waitFor(() => l.link.down, "the loss");
    await delay(300); // several failed reconnection attempts
    l.link.countUnpublished(3);
    equal(l.named("redis-lost").length, 1);
    deepEqual([l.stats.publisherDisconnects, l.stats.publisherStalls], [1, 0]);
    equal(l.state.losses, 1);
    await rejects(l.link.publish("c", new Uint8Array(1)), "fails at once");
    await redis.restart();
    await waitFor(() => l.link.up, "reconnection", 5000);
    const [resumed] = l.named("redis-resumed");
    deepEqual(
      [resumed.role, resumed.stalled, resumed.lines_unpublished],
      ["publisher", false, 3],
    );
    ok(Number(resumed.attempts) >= 1);
    ok(Number(resumed.down_ms) >= 300);
    await l.link.shut();
  },
);

redisTest(
  "Redis paused: the link is stalled within 1.25 stall timeouts (redis-stalled) and resumes when Redis answers",
  async () => {
    await using redis = await startRedisServer();
    const l = link(redis.url, "subscriber", { stallTimeoutMs: 200 });
    await l.link.connect();
    const pausedAt = Date.now();
    redis.pause();
    await waitFor(() => l.link.down, "the stall", 2000);
    const stalledAfter = Date.now() - pausedAt;
    redis.resume();
    // 1.25 stall timeouts, and as much again for a busy machine.
    ok(stalledAfter < 500, `stalled after ${stalledAfter} ms`);
    const [stalled] = l.named("redis-stalled");
    deepEqual([stalled.role, stalled.stall_timeout_ms], ["subscriber", 200]);
    deepEqual([l.stats.subscriberDisconnects, l.stats.subscriberStalls], [
      1,
      1,
    ]);
    await waitFor(() => l.link.up, "reconnection", 5000);
    const [resumed] = l.named("redis-resumed");
    equal(resumed.stalled, true);
    equal(resumed.lines_unpublished, undefined, "a subscriber publishes none");
    await l.link.shut();
  },
);

redisTest(
  "while the bus closes, a loss is expected: neither logged nor retried",
  async () => {
    await using redis = await startRedisServer();
    const l = link(redis.url, "publisher");
    await l.link.connect();
    l.state.closing = true;
    await redis.kill();
    await redis.restart();
    await delay(500);
    deepEqual(l.events, []);
    equal(l.state.losses, 0);
    equal(l.stats.publisherDisconnects, 0);
    await l.link.shut();
  },
);
