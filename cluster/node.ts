/**
 * `deno run -A cluster/node.ts --redis URL [options]`: a server node whose
 * room spans every node on the same Redis and room. `server/main.ts`
 * with `--redis` runs this. See `--help` and the README.
 *
 * @module
 */

import { runMain } from "../lib/args.ts";
import { runServer } from "../server/run.ts";
import { NODE_USAGE, parseNodeArgs } from "./node_cli.ts";
import { connectRedisBus } from "./redis_bus.ts";

await runMain("linechat-server", async () => {
  const args = parseNodeArgs(Deno.args);
  if (args.help) {
    console.log(NODE_USAGE);
    return;
  }
  // Joined before listening, so every line of every client is published;
  // Redis unreachable now: one line, exit 1.
  await runServer(args.server, {
    extend: (logger) =>
      connectRedisBus({
        url: args.redis,
        room: args.room,
        logger,
        maxDelayMs: args.busMaxDelayMs,
        stallTimeoutMs: args.busStallTimeoutMs,
        maxBacklogBytes: args.busBacklogBytes,
      }),
  });
});
