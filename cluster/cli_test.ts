import { deepEqual, equal, throws } from "node:assert/strict";
import { UsageError } from "../cli/args.ts";
import { parseServerArgs } from "../server/cli.ts";
import { parseClusterArgs } from "./cli.ts";

Deno.test("cluster flags: defaults, then everything after -- for the nodes", () => {
  const args = parseClusterArgs([]);
  equal(args.nodes, 3);
  equal(args.basePort, 7687);
  equal(args.redis.url, "redis://127.0.0.1:6379");
  equal(args.room, "lobby");
  equal(args.startRedis, false);
  deepEqual(args.serverArgs, []);
  const custom = parseClusterArgs([
    "--nodes=2",
    "--base-port",
    "0",
    "--start-redis",
    "--redis",
    "redis://127.0.0.1:7000",
    "--",
    "--log",
    "json",
  ]);
  deepEqual(
    [custom.nodes, custom.basePort, custom.redis.port, custom.startRedis],
    [2, 0, 7000, true],
  );
  deepEqual(custom.serverArgs, ["--log", "json"]);
});

Deno.test("cluster flags: bad values are one-line usage errors", () => {
  for (
    const bad of [
      ["--nodes", "0"],
      ["--base-port", "65535", "--nodes", "2"],
      ["--start-redis", "--redis", "redis://10.1.2.3:6379"],
      ["--redis", "localhost:6379"],
      ["--room", "two words"],
      ["--", "--port", "1"],
      ["--", "--redis=redis://x"],
      ["stray"],
    ]
  ) {
    throws(() => parseClusterArgs(bad), UsageError, bad.join(" "));
  }
});

Deno.test("server flags: --redis and --room make a node; --room alone is an error", () => {
  const lone = parseServerArgs([]);
  equal(lone.redis, undefined);
  equal(lone.room, "lobby");
  const node = parseServerArgs([
    "--redis",
    "redis://127.0.0.1:6380/1",
    "--room",
    "dev",
  ]);
  equal(node.redis, "redis://127.0.0.1:6380/1");
  equal(node.room, "dev");
  deepEqual(
    [node.busMaxDelayMs, node.busStallTimeoutMs, node.busBacklogBytes],
    [2000, 1000, 16 * 1024 * 1024],
    "the bus's defaults",
  );
  throws(() => parseServerArgs(["--room", "dev"]), UsageError);
  throws(() => parseServerArgs(["--redis", "127.0.0.1:6379"]), UsageError);
  throws(
    () => parseServerArgs(["--redis", "redis://h", "--room", "a b"]),
    UsageError,
  );
});

Deno.test("server flags: the bus's limits, with --redis only, within bounds", () => {
  const node = parseServerArgs([
    "--redis",
    "redis://127.0.0.1:6379",
    "--bus-max-delay-ms",
    "500",
    "--bus-stall-timeout-ms",
    "250",
    "--bus-backlog-bytes",
    "1m",
  ]);
  deepEqual(
    [node.busMaxDelayMs, node.busStallTimeoutMs, node.busBacklogBytes],
    [500, 250, 1024 * 1024],
  );
  for (
    const bad of [
      ["--bus-max-delay-ms", "500"],
      ["--bus-stall-timeout-ms", "500"],
      ["--bus-backlog-bytes", "1m"],
      ["--redis", "redis://h", "--bus-max-delay-ms", "0"],
      ["--redis", "redis://h", "--bus-stall-timeout-ms", "10"],
      ["--redis", "redis://h", "--bus-backlog-bytes", "1k"],
      ["--redis", "redis://h", "--bus-max-delay-ms", "soon"],
    ]
  ) {
    throws(() => parseServerArgs(bad), UsageError, bad.join(" "));
  }
  // deno task cluster passes them to every node.
  deepEqual(
    parseClusterArgs(["--", "--bus-max-delay-ms", "500"]).serverArgs,
    ["--bus-max-delay-ms", "500"],
  );
});
