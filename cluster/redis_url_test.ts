import { deepEqual, equal, throws } from "node:assert/strict";
import { UsageError } from "../lib/args.ts";
import { parseRedisUrl, parseRoomName, roomChannel } from "./redis_url.ts";

Deno.test("a redis URL gives host, port, db and a redacted form", () => {
  deepEqual(parseRedisUrl("redis://127.0.0.1"), {
    url: "redis://127.0.0.1",
    hostname: "127.0.0.1",
    port: 6379,
    db: 0,
    tls: false,
    redacted: "redis://127.0.0.1",
  });
  const url = parseRedisUrl("rediss://user:secret@redis.example:6380/3");
  equal(url.port, 6380);
  equal(url.db, 3);
  equal(url.tls, true);
  equal(url.redacted, "rediss://user:***@redis.example:6380/3");
  equal(url.url.includes("secret"), true);
});

Deno.test("bad redis URLs are usage errors naming the flag", () => {
  for (
    const bad of [
      "127.0.0.1:6379",
      "http://127.0.0.1:6379",
      "redis://",
      "redis://host/db",
      "redis://host/1?x=2",
      "redis://host:99999",
    ]
  ) {
    throws(() => parseRedisUrl(bad), (error: Error) => {
      equal(error instanceof UsageError, true, bad);
      equal(error.message.startsWith("--redis: "), true, error.message);
      return true;
    });
  }
});

Deno.test("room names are short and plain; the channel is prefixed", () => {
  equal(parseRoomName("team-1.dev:eu_west"), "team-1.dev:eu_west");
  for (const bad of ["", "a b", "x".repeat(129), "é", "a*"]) {
    throws(() => parseRoomName(bad), UsageError, bad);
  }
  equal(roomChannel("lobby"), "linechat:room:lobby");
});
