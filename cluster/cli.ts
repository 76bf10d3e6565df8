/**
 * The command line of `deno task cluster`: N server nodes on one machine,
 * joined through one Redis.
 *
 * @module
 */

import { parseFlags, parseInteger, UsageError } from "../lib/args.ts";
import { DEFAULT_PORT } from "../protocol/limits.ts";
import {
  DEFAULT_ROOM,
  parseRedisUrl,
  parseRoomName,
  type RedisUrl,
} from "./redis_url.ts";

/** The Redis a cluster uses unless told otherwise. */
export const DEFAULT_CLUSTER_REDIS = "redis://127.0.0.1:6379";

/** The text `deno task cluster --help` prints. */
export const CLUSTER_USAGE =
  `linechat cluster: runs N server nodes on this machine, one room through Redis.

Usage: deno task cluster [options] [-- server options]

Options:
  --nodes N          how many nodes (default 3)
  --base-port PORT   node i (0, 1, …) listens on PORT + i (default ${DEFAULT_PORT});
                     0 lets every node pick a free port (printed at start)
  --host HOST        address the nodes listen on (default 127.0.0.1)
  --redis URL        the Redis joining them (default ${DEFAULT_CLUSTER_REDIS})
  --room NAME        the room (default ${DEFAULT_ROOM})
  --start-redis      start a redis-server on the URL's loopback port first (no
                     persistence, a temporary directory) and stop it at the end
  -h, --help         this text
  --version          linechat's version

Everything after -- goes to every node, e.g. -- --log json --max-clients 5000
or the bus's limits, -- --bus-max-delay-ms 1000 --bus-stall-timeout-ms 500.
Each node's log lines are prefixed with "node<i> ". SIGINT or SIGTERM stops
every node (each logs its shutdown and cluster-closed summaries). If a node
exits by itself, the others are stopped and the exit code is 1.`;

/** Parsed cluster flags. */
export interface ClusterArgs {
  help: boolean;
  nodes: number;
  basePort: number;
  hostname: string;
  redis: RedisUrl;
  room: string;
  startRedis: boolean;
  /** Flags passed on to every node. */
  serverArgs: string[];
}

const NODE_FLAGS = new Set(["--port", "--host", "--redis", "--room"]);

/**
 * Parses the cluster's flags; throws {@linkcode UsageError} with a one-line
 * reason for anything unknown or out of range.
 *
 * @example
 * ```ts
 * import { parseClusterArgs } from "./cli.ts";
 * const args = parseClusterArgs(["--nodes", "2", "--", "--log", "json"]);
 * console.log(args.nodes, args.serverArgs); // 2 ["--log", "json"]
 * ```
 */
export function parseClusterArgs(args: string[]): ClusterArgs {
  const split = args.indexOf("--");
  const own = split === -1 ? args : args.slice(0, split);
  const serverArgs = split === -1 ? [] : args.slice(split + 1);
  const { values, positionals } = parseFlags({
    args: own,
    allowPositionals: true,
    options: {
      nodes: { type: "string", default: "3" },
      "base-port": { type: "string", default: String(DEFAULT_PORT) },
      host: { type: "string", default: "127.0.0.1" },
      redis: { type: "string", default: DEFAULT_CLUSTER_REDIS },
      room: { type: "string", default: DEFAULT_ROOM },
      "start-redis": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}"`);
  }
  for (const arg of serverArgs) {
    const flag = arg.split("=")[0];
    if (NODE_FLAGS.has(flag)) {
      throw new UsageError(
        `${flag} after -- would override the cluster's own; use the cluster's flags`,
      );
    }
  }
  const nodes = parseInteger("--nodes", values.nodes, { min: 1, max: 64 });
  const basePort = parseInteger("--base-port", values["base-port"], {
    max: 65535,
  });
  if (basePort !== 0 && basePort + nodes - 1 > 65535) {
    throw new UsageError(
      `--base-port: ${basePort} + ${nodes} nodes goes past port 65535`,
    );
  }
  const redis = parseRedisUrl(values.redis);
  if (
    values["start-redis"] && redis.hostname !== "127.0.0.1"
  ) {
    throw new UsageError(
      `--start-redis starts Redis on this machine: --redis must name 127.0.0.1, got ${redis.hostname}`,
    );
  }
  return {
    help: values.help,
    nodes,
    basePort,
    hostname: values.host,
    redis,
    room: parseRoomName(values.room),
    startRedis: values["start-redis"],
    serverArgs,
  };
}
