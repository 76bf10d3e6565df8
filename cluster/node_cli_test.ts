import { deepEqual, equal, throws } from "node:assert/strict";
import { UsageError } from "../lib/args.ts";
import { parseClusterArgs } from "./cli.ts";
import { NODE_USAGE, parseNodeArgs } from "./node_cli.ts";

Deno.test("node flags: --redis is required, --room names the room; the rest are the server's", () => {
  throws(() => parseNodeArgs([]), /needs --redis/);
  const node = parseNodeArgs([
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
  throws(() => parseNodeArgs(["--room", "dev"]), UsageError);
  const both = parseNodeArgs([
    "--port=0",
    "--redis=redis://127.0.0.1:6379",
    "--max-clients",
    "5",
  ]);
  deepEqual([both.server.port, both.server.maxClients], [0, 5]);
  throws(
    () => parseNodeArgs(["--redis", "redis://h", "--nope"]),
    /nope/,
    "server flags are still checked",
  );
  throws(() => parseNodeArgs(["--redis", "127.0.0.1:6379"]), UsageError);
  throws(
    () => parseNodeArgs(["--redis", "redis://h", "--room", "a b"]),
    UsageError,
  );
});

Deno.test("node flags: the bus's limits, within bounds", () => {
  const node = parseNodeArgs([
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
    throws(() => parseNodeArgs(bad), UsageError, bad.join(" "));
  }
  // deno task cluster passes them to every node.
  deepEqual(
    parseClusterArgs(["--", "--bus-max-delay-ms", "500"]).serverArgs,
    ["--bus-max-delay-ms", "500"],
  );
});

Deno.test("node --help lists the cluster flags and every server flag", () => {
  for (
    const flag of [
      "--redis",
      "--bus-backlog-bytes",
      "--max-clients",
      "--sender-window",
    ]
  ) {
    equal(NODE_USAGE.includes(flag), true, flag);
  }
  equal(NODE_USAGE.includes("cluster/node.ts's"), false);
});
