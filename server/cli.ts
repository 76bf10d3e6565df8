/**
 * The server's command line: flags to {@linkcode ChatServerOptions}.
 *
 * @module
 */

import { parseFlags, parseInteger, UsageError } from "../cli/args.ts";
import {
  DEFAULT_ROOM,
  parseRedisUrl,
  parseRoomName,
} from "../cluster/redis_url.ts";
import {
  DEFAULT_MAX_CLIENTS,
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_MAX_PENDING_BYTES,
  DEFAULT_PORT,
} from "../protocol/limits.ts";

/** The text `--help` prints. */
export const SERVER_USAGE =
  `linechat server: relays every line a client sends to every other client.

Usage: deno run -A server/main.ts [options]

Options:
  --host HOST               address to listen on (default 127.0.0.1; 0.0.0.0 for all)
  --port PORT               TCP port (default ${DEFAULT_PORT}); 0 picks a free port, printed at start
  --max-line-bytes N        longest line relayed, terminator excluded (default ${DEFAULT_MAX_LINE_BYTES});
                            a longer line is dropped whole and its sender disconnected
  --max-pending-bytes N     output queued per client before it is disconnected as a
                            slow consumer (default ${DEFAULT_MAX_PENDING_BYTES})
  --max-clients N           clients at once; more are accepted and closed (default ${DEFAULT_MAX_CLIENTS})
  --shutdown-grace-ms N     on SIGINT/SIGTERM, how long pending output may flush (default 2000)
  --transport deno|node     how TCP is served: Deno.listen (default) or node:net, which
                            holds less memory per idle client (see the README)
  --log text|json           log format (default text)
  --quiet                   no connect/disconnect lines
  --redis URL               join a cluster of nodes through Redis pub/sub:
                            redis://[user:password@]host[:port][/db]; every node of the
                            room relays its clients' lines to the others' clients
  --room NAME               the cluster room, with --redis (default ${DEFAULT_ROOM})
  -h, --help                this text

Sizes accept k/m/g suffixes (powers of 1024): --max-line-bytes 1m.`;

/** Parsed server flags. */
export interface ServerArgs {
  help: boolean;
  hostname: string;
  port: number;
  maxLineBytes: number;
  maxPendingBytes: number;
  maxClients: number;
  shutdownGraceMs: number;
  log: "text" | "json";
  quiet: boolean;
  transport: "deno" | "node";
  /** `--redis`: the Redis URL of the cluster; unset for a lone server. */
  redis: string | undefined;
  /** `--room`: the cluster room's name. */
  room: string;
}

/**
 * Parses the server's flags strictly; throws {@linkcode UsageError} with a
 * one-line reason for anything unknown, missing or out of range.
 *
 * @example
 * ```ts
 * import { parseServerArgs } from "./cli.ts";
 * console.log(parseServerArgs(["--port", "0", "--log", "json"]).port); // 0
 * ```
 */
export function parseServerArgs(args: string[]): ServerArgs {
  const { values, positionals } = parseFlags({
    args,
    allowPositionals: true,
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: String(DEFAULT_PORT) },
      "max-line-bytes": {
        type: "string",
        default: String(DEFAULT_MAX_LINE_BYTES),
      },
      "max-pending-bytes": {
        type: "string",
        default: String(DEFAULT_MAX_PENDING_BYTES),
      },
      "max-clients": { type: "string", default: String(DEFAULT_MAX_CLIENTS) },
      "shutdown-grace-ms": { type: "string", default: "2000" },
      log: { type: "string", default: "text" },
      transport: { type: "string", default: "deno" },
      quiet: { type: "boolean", default: false },
      redis: { type: "string" },
      room: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (positionals.length > 0) {
    throw new UsageError(`unexpected argument "${positionals[0]}"`);
  }
  if (values.transport !== "deno" && values.transport !== "node") {
    throw new UsageError(
      `--transport: expected deno or node, got "${values.transport}"`,
    );
  }
  if (values.log !== "text" && values.log !== "json") {
    throw new UsageError(`--log: expected text or json, got "${values.log}"`);
  }
  const maxLineBytes = parseInteger(
    "--max-line-bytes",
    values["max-line-bytes"],
    {
      min: 1,
      max: 1024 ** 3,
    },
  );
  const maxPendingBytes = parseInteger(
    "--max-pending-bytes",
    values["max-pending-bytes"],
    { min: 1, max: 16 * 1024 ** 3 },
  );
  if (values.room !== undefined && values.redis === undefined) {
    throw new UsageError("--room applies to a cluster: give --redis too");
  }
  if (maxPendingBytes < maxLineBytes + 2) {
    throw new UsageError(
      `--max-pending-bytes (${maxPendingBytes}) must be at least --max-line-bytes + 2 (${
        maxLineBytes + 2
      })`,
    );
  }
  return {
    help: values.help,
    hostname: values.host,
    port: parseInteger("--port", values.port, { max: 65535 }),
    maxLineBytes,
    maxPendingBytes,
    maxClients: parseInteger("--max-clients", values["max-clients"], {
      min: 1,
    }),
    shutdownGraceMs: parseInteger(
      "--shutdown-grace-ms",
      values["shutdown-grace-ms"],
    ),
    log: values.log,
    quiet: values.quiet,
    transport: values.transport,
    redis: values.redis === undefined
      ? undefined
      : parseRedisUrl(values.redis).url,
    room: parseRoomName(values.room ?? DEFAULT_ROOM),
  };
}
