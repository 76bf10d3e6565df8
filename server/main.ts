/**
 * `deno run -A server/main.ts [options]`: runs the line-chat server until
 * SIGINT or SIGTERM. See `--help` and the README.
 *
 * @module
 */

import { runMain } from "../cli/args.ts";
import { listen } from "./chat_server.ts";
import { parseServerArgs, SERVER_USAGE } from "./cli.ts";
import { Logger } from "./logger.ts";

await runMain("linechat-server", async () => {
  const args = parseServerArgs(Deno.args);
  if (args.help) {
    console.log(SERVER_USAGE);
    return;
  }
  const logger = new Logger({ format: args.log, quiet: args.quiet });
  // A bug in one connection's handling must never take the room down.
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    logger.event("internal-error", { error: String(event.reason) });
  });
  // With --redis, join the cluster before listening, so every line of
  // every client is published; Redis unreachable now: one line, exit 1.
  // (Loaded only then: a lone server does not load the Redis client.)
  const bus = args.redis === undefined
    ? undefined
    : await (await import("../cluster/redis_bus.ts")).connectRedisBus({
      url: args.redis,
      room: args.room,
      logger,
      maxDelayMs: args.busMaxDelayMs,
      stallTimeoutMs: args.busStallTimeoutMs,
      maxBacklogBytes: args.busBacklogBytes,
    });
  let server;
  try {
    server = await listen({ ...args, logger });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new Error(`${args.hostname}:${args.port} is already in use`);
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new Error(`not allowed to listen on ${args.hostname}:${args.port}`);
    }
    if (error instanceof Deno.errors.AddrNotAvailable) {
      throw new Error(`${args.hostname} is not an address of this machine`);
    }
    throw new Error(
      `cannot listen on ${args.hostname}:${args.port}: ${
        error instanceof Error ? error.message : error
      }`,
    );
  }
  bus?.attach(server.room);
  const stop = async () => {
    try {
      await server.shutdown();
      await bus?.close();
    } finally {
      // Let the log (the summary last) reach stdout, but only for so long:
      // a stdout nobody reads must not keep a stopped server alive.
      await logger.flush(1000);
      Deno.exit(0);
    }
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
});
