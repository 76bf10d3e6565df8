/**
 * The command line of a cluster node (`deno run -A cluster/node.ts`):
 * every server flag, plus the ones that join it to a room through Redis.
 *
 * @module
 */

import { parseFlags, parseInteger, UsageError } from "../lib/args.ts";
import {
  parseServerArgs,
  SERVER_USAGE,
  type ServerArgs,
} from "../server/cli.ts";
import {
  DEFAULT_BUS_BACKLOG_BYTES,
  DEFAULT_BUS_MAX_DELAY_MS,
  DEFAULT_BUS_STALL_TIMEOUT_MS,
  MIN_BUS_BACKLOG_BYTES,
} from "./bus_limits.ts";
import { DEFAULT_ROOM, parseRedisUrl, parseRoomName } from "./redis_url.ts";

/** The cluster flags a node takes besides the server's. */
export const BUS_OPTIONS_USAGE =
  `  --redis URL               the Redis that joins the nodes (required):
                            redis://[user:password@]host[:port][/db]; every node of the
                            room relays its clients' lines to the others' clients
  --room NAME               the cluster room (default ${DEFAULT_ROOM})
  --bus-max-delay-ms MS     a line that cannot reach the other nodes within MS is
                            dropped and counted, never delivered late (default ${DEFAULT_BUS_MAX_DELAY_MS})
  --bus-stall-timeout-ms MS a Redis connection silent this long (PINGs every MS/4
                            unanswered) is stalled: Redis is treated as down until
                            reconnected (default ${DEFAULT_BUS_STALL_TIMEOUT_MS})
  --bus-backlog-bytes N     most bytes queued to publish while Redis is slow; when
                            full, the sender holding the most loses lines (default ${DEFAULT_BUS_BACKLOG_BYTES})`;

/** The text `deno run -A cluster/node.ts --help` prints. */
export const NODE_USAGE = SERVER_USAGE
  .replace(
    "linechat server: relays every line a client sends to every other client.",
    "linechat cluster node: a server whose room spans every node on one Redis.",
  )
  .replace("server/main.ts [options]", "cluster/node.ts --redis URL [options]")
  .replace(
    / {2}--redis URL ….*\n.*\n/,
    "",
  )
  .replace(
    "\nOptions:\n",
    `\nCluster options:\n${BUS_OPTIONS_USAGE}\n\nServer options:\n`,
  );

/** Parsed node flags: the server's and the bus's. */
export interface NodeArgs {
  help: boolean;
  /** Everything but the cluster flags, as `server/main.ts` takes them. */
  server: ServerArgs;
  /** `--redis`, normalised. */
  redis: string;
  /** `--room`. */
  room: string;
  /** `--bus-max-delay-ms`: see `RedisBusOptions.maxDelayMs`. */
  busMaxDelayMs: number;
  /** `--bus-stall-timeout-ms`: see `RedisBusOptions.stallTimeoutMs`. */
  busStallTimeoutMs: number;
  /** `--bus-backlog-bytes`: see `RedisBusOptions.maxBacklogBytes`. */
  busBacklogBytes: number;
}

const BUS_FLAGS = [
  "redis",
  "room",
  "bus-max-delay-ms",
  "bus-stall-timeout-ms",
  "bus-backlog-bytes",
] as const;

/**
 * Parses a node's flags strictly: the cluster flags here, the rest by
 * {@linkcode parseServerArgs}. Throws {@linkcode UsageError} with a
 * one-line reason.
 *
 * @example
 * ```ts
 * import { parseNodeArgs } from "./node_cli.ts";
 * const args = parseNodeArgs(["--redis", "redis://127.0.0.1:6379", "--port", "0"]);
 * console.log(args.room, args.server.port); // "lobby" 0
 * ```
 */
export function parseNodeArgs(args: string[]): NodeArgs {
  const bus: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = /^--([a-z-]+)(=|$)/.exec(args[i]);
    if (name && (BUS_FLAGS as readonly string[]).includes(name[1])) {
      bus.push(args[i]);
      if (name[2] === "" && i + 1 < args.length) bus.push(args[++i]);
    } else {
      rest.push(args[i]);
    }
  }
  const server = parseServerArgs(rest);
  const { values } = parseFlags({
    args: bus,
    options: {
      redis: { type: "string" },
      room: { type: "string", default: DEFAULT_ROOM },
      "bus-max-delay-ms": {
        type: "string",
        default: String(DEFAULT_BUS_MAX_DELAY_MS),
      },
      "bus-stall-timeout-ms": {
        type: "string",
        default: String(DEFAULT_BUS_STALL_TIMEOUT_MS),
      },
      "bus-backlog-bytes": {
        type: "string",
        default: String(DEFAULT_BUS_BACKLOG_BYTES),
      },
    },
  });
  if (values.redis === undefined && !server.help) {
    throw new UsageError(
      "a cluster node needs --redis URL (a lone server: server/main.ts)",
    );
  }
  return {
    help: server.help,
    server,
    redis: values.redis === undefined ? "" : parseRedisUrl(values.redis).url,
    room: parseRoomName(values.room),
    busMaxDelayMs: parseInteger(
      "--bus-max-delay-ms",
      values["bus-max-delay-ms"],
      { min: 10, max: 24 * 3600 * 1000 },
    ),
    busStallTimeoutMs: parseInteger(
      "--bus-stall-timeout-ms",
      values["bus-stall-timeout-ms"],
      { min: 50, max: 24 * 3600 * 1000 },
    ),
    busBacklogBytes: parseInteger(
      "--bus-backlog-bytes",
      values["bus-backlog-bytes"],
      { min: MIN_BUS_BACKLOG_BYTES, max: 1024 ** 3 },
    ),
  };
}
