/**
 * `deno task cluster [options] [-- server options]`: runs N server nodes
 * on this machine, joined into one room through Redis (optionally a
 * redis-server it starts), until SIGINT or SIGTERM. See `--help`.
 *
 * @module
 */

import { runMain } from "../lib/args.ts";
import { describeStatus } from "../lib/exit_status.ts";
import { ServerProcess } from "../lib/server_process.ts";
import { shellJoin } from "../lib/shell.ts";
import { CLUSTER_USAGE, parseClusterArgs } from "./cli.ts";
import { type RedisServer, startRedisServer } from "./redis_server.ts";

const NODE_MAIN = new URL("./node.ts", import.meta.url).pathname;

await runMain("linechat-cluster", async () => {
  const args = parseClusterArgs(Deno.args);
  if (args.help) {
    console.log(CLUSTER_USAGE);
    return;
  }
  let redis: RedisServer | undefined;
  if (args.startRedis) {
    redis = await startRedisServer({ port: args.redis.port });
    console.log(
      `cluster: started redis-server on 127.0.0.1:${redis.port} (no persistence, dir ${redis.dir})`,
    );
  }
  const nodes = Array.from({ length: args.nodes }, (_, i) =>
    new ServerProcess({
      command: shellJoin([
        Deno.execPath(),
        "run",
        "-A",
        NODE_MAIN,
        "--host",
        args.hostname,
        "--port",
        "{port}",
        "--redis",
        args.redis.url,
        "--room",
        args.room,
        ...args.serverArgs,
      ]),
      port: args.basePort === 0 ? undefined : args.basePort + i,
      // This launcher stops its nodes itself, each with its summary.
      handleSignals: false,
      onLine: (line, stream) =>
        print(
          stream === "stdout" ? console.log : console.error,
          `node${i} ${line}`,
        ),
    }));
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    await Promise.all(nodes.map((node) => node.stop()));
    await redis?.stop();
  };
  const onSignal = async () => {
    if (stopping) return;
    await stopAll();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  const started = await Promise.allSettled(nodes.map((node) => node.start()));
  // Stopped by a signal while starting: the signal's handler finishes.
  if (stopping) return;
  const failed = started.findIndex((result) => result.status === "rejected");
  if (failed !== -1) {
    await stopAll();
    const reason = (started[failed] as PromiseRejectedResult).reason;
    throw new Error(
      `node${failed} did not start: ${
        reason instanceof Error ? reason.message : reason
      }; stopped the others`,
    );
  }
  console.log(
    `cluster: ${args.nodes} nodes on ${args.hostname} port${
      args.nodes > 1 ? "s" : ""
    } ${
      nodes.map((node) => node.port).join(", ")
    }, room ${args.room}, Redis ${args.redis.redacted}`,
  );

  // A node that exits by itself (Redis lost for good, a crash) takes the
  // cluster down with it.
  const first = await Promise.race(
    nodes.map(async (node, index) => ({ index, status: await node.exited })),
  );
  if (stopping) return;
  await stopAll();
  throw new Error(
    `node${first.index} exited (${
      describeStatus(first.status)
    }); stopped the others`,
  );
});

/**
 * Writes a line; if our own output is gone (the reader of a pipe exited),
 * drops it and goes on, so the nodes are still drained, watched and
 * stopped.
 */
function print(write: (line: string) => void, line: string): void {
  try {
    write(line);
  } catch {
    // Broken pipe: nobody is reading.
  }
}
