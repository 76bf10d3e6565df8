import { deepEqual, equal, throws } from "node:assert/strict";
import { UsageError } from "../lib/args.ts";
import { Logger } from "../server/logger.ts";
import {
  DEFAULT_BUS_BACKLOG_BYTES,
  DEFAULT_BUS_MAX_DELAY_MS,
  DEFAULT_BUS_STALL_TIMEOUT_MS,
} from "./bus_limits.ts";
import { nodeIdHex } from "./message.ts";
import { resolveRedisBusOptions } from "./redis_bus_options.ts";

Deno.test("bus options: every default is the documented one", () => {
  const { url, channel, logger, nodeId, nodeIdHex: hex, ...limits } =
    resolveRedisBusOptions({ url: "redis://127.0.0.1:6380" });
  deepEqual([url.hostname, url.port], ["127.0.0.1", 6380]);
  equal(channel, "linechat:room:lobby");
  equal(logger instanceof Logger, true);
  equal(nodeId.length, 8);
  equal(hex, nodeIdHex(nodeId));
  deepEqual(limits, {
    maxMessageBytes: 262144,
    maxInFlight: 2,
    maxBacklogBytes: DEFAULT_BUS_BACKLOG_BYTES,
    maxDelayMs: DEFAULT_BUS_MAX_DELAY_MS,
    stallTimeoutMs: DEFAULT_BUS_STALL_TIMEOUT_MS,
    connectTimeoutMs: 5000,
    reconnectMinMs: 50,
    reconnectMaxMs: 250,
    closeTimeoutMs: 1000,
    joinSlackMs: 2,
  });
});

Deno.test("bus options: what is given is kept; 0 is a value, not a default", () => {
  const logger = new Logger({ write: () => {} });
  const nodeId = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const options = resolveRedisBusOptions({
    url: "redis://:secret@10.0.0.5",
    room: "dev",
    logger,
    nodeId,
    maxDelayMs: 400,
    joinSlackMs: 0,
  });
  equal(options.channel, "linechat:room:dev");
  equal(options.logger, logger);
  equal(options.nodeIdHex, "0102030405060708");
  equal(options.url.redacted, "redis://:***@10.0.0.5");
  deepEqual([options.maxDelayMs, options.joinSlackMs], [400, 0]);
});

Deno.test("bus options: a bad URL is a usage error naming the option, a node id not 8 bytes a RangeError", () => {
  throws(
    () => resolveRedisBusOptions({ url: "http://127.0.0.1" }),
    (error: Error) =>
      error instanceof UsageError && /^url: /.test(error.message),
  );
  throws(
    () =>
      resolveRedisBusOptions({
        url: "redis://127.0.0.1",
        nodeId: new Uint8Array(4),
      }),
    RangeError,
  );
});
