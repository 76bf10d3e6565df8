import { deepEqual, equal, throws } from "node:assert/strict";
import { UsageError } from "../lib/args.ts";
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
