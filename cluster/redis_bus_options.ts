/**
 * The options of a `RedisBus` and their defaults, resolved in one place
 * so that the bus's parts (its Redis connections, publisher and
 * receiver) all see the same values.
 *
 * {@linkcode RedisBusOptions} is re-exported by `redis_bus.ts`; the
 * resolved form is for the bus's parts only.
 *
 * @module
 */

import { Logger } from "../server/logger.ts";
import {
  DEFAULT_BUS_BACKLOG_BYTES,
  DEFAULT_BUS_MAX_DELAY_MS,
  DEFAULT_BUS_STALL_TIMEOUT_MS,
} from "./bus_limits.ts";
import { newNodeId, NODE_ID_BYTES, nodeIdHex } from "./message.ts";
import {
  DEFAULT_ROOM,
  parseRedisUrl,
  type RedisUrl,
  roomChannel,
} from "./redis_url.ts";

/**
 * Options for `connectRedisBus`.
 *
 * @example
 * ```ts
 * import type { RedisBusOptions } from "./redis_bus_options.ts";
 *
 * const options: RedisBusOptions = {
 *   url: "redis://127.0.0.1:6379",
 *   room: "dev",
 *   maxDelayMs: 1000,
 * };
 * console.log(options.room); // "dev"
 * ```
 */
export interface RedisBusOptions {
  /** Redis to join through: `redis://[user:password@]host[:port][/db]`. */
  url: string;
  /**
   * The room's name; nodes with the same Redis and room form one room.
   *
   * @default {"lobby"}
   */
  room?: string;
  /**
   * Where events go (`cluster-joined`, `redis-lost`, `redis-stalled`,
   * `redis-resumed`, `cluster-gap`, `cluster-late`, `cluster-closed`, …).
   *
   * @default {new Logger()}
   */
  logger?: Logger;
  /**
   * This node's id (8 bytes).
   *
   * @default {a random id}
   */
  nodeId?: Uint8Array;
  /**
   * Most bytes of batches coalesced into one PUBLISH (a single larger
   * batch still goes alone).
   *
   * @default {262144}
   */
  maxMessageBytes?: number;
  /**
   * Most PUBLISH commands awaiting Redis's reply; more batches queue
   * meanwhile and go out together.
   *
   * @default {2}
   */
  maxInFlight?: number;
  /**
   * Most bytes queued for publishing while Redis is slow to answer. When
   * a batch does not fit, the sender holding the most of the backlog
   * loses lines (its new batch, or else the heaviest sender's oldest),
   * counted in `BusStats.linesBacklogFull` and logged
   * (`cluster-backlog-full`); see `publish_backlog.ts`.
   *
   * @default {16777216}
   */
  maxBacklogBytes?: number;
  /**
   * A cross-node line arrives within this many ms of being relayed on its
   * node, or not at all: a batch not published by then is dropped
   * (`BusStats.linesExpired`, `cluster-expired`), and one
   * arriving older (by its `completedAt` and this node's clock) is dropped
   * by the receiving node (`BusStats.linesLate`,
   * `cluster-late`). Nodes' clocks are assumed to agree to well within it
   * (one machine, or NTP).
   *
   * @default {2000}
   */
  maxDelayMs?: number;
  /**
   * A Redis connection silent this long (a PING or PUBLISH unanswered) is
   * stalled: the node logs `redis-stalled`, treats Redis as down, and
   * node-redis reconnects (its `socket.socketTimeout`). Each connection
   * PINGs Redis every quarter of it (node-redis `pingInterval`), so a
   * stall is noticed within 1.25 times it.
   *
   * @default {1000}
   */
  stallTimeoutMs?: number;
  /**
   * How long connecting to Redis may take at start.
   *
   * @default {5000}
   */
  connectTimeoutMs?: number;
  /**
   * First delay before reconnecting after Redis was lost; it doubles
   * after each failed attempt up to `reconnectMaxMs` (with jitter).
   *
   * @default {50}
   */
  reconnectMinMs?: number;
  /**
   * Longest delay between reconnection attempts: cross-node relay resumes
   * at most about this long after Redis is back.
   *
   * @default {250}
   */
  reconnectMaxMs?: number;
  /**
   * On close, how long queued batches may take to be published.
   *
   * @default {1000}
   */
  closeTimeoutMs?: number;
  /**
   * A client joins the room when its node accepts its connection, a little
   * after the client saw it established; lines another node completed
   * within this many ms before that accept are still delivered to it, and
   * older ones never are (PROTOCOL.md §2.1, §2.9). `0` counts from the
   * accept exactly.
   *
   * @default {2}
   */
  joinSlackMs?: number;
}

/**
 * {@linkcode RedisBusOptions} with every default filled in, the URL
 * checked, the node id checked and the room turned into its channel.
 */
export interface ResolvedRedisBusOptions {
  /** The checked URL (its `redacted` form is what gets logged). */
  readonly url: RedisUrl;
  /** The room's Redis channel. */
  readonly channel: string;
  readonly logger: Logger;
  /** This node's id, 8 bytes. */
  readonly nodeId: Uint8Array;
  /** The same as 16 hex digits, as logged (`node`). */
  readonly nodeIdHex: string;
  readonly maxMessageBytes: number;
  readonly maxInFlight: number;
  readonly maxBacklogBytes: number;
  readonly maxDelayMs: number;
  readonly stallTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly closeTimeoutMs: number;
  readonly joinSlackMs: number;
}

/**
 * Fills in the defaults of `options` (the `@default`s of
 * {@linkcode RedisBusOptions}); throws a `UsageError` for a bad URL and
 * a `RangeError` for a node id that is not 8 bytes. The room's name is
 * not checked here (the command line does, with `parseRoomName`).
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { resolveRedisBusOptions } from "./redis_bus_options.ts";
 *
 * const options = resolveRedisBusOptions({ url: "redis://127.0.0.1" });
 * equal(options.channel, "linechat:room:lobby");
 * equal(options.maxDelayMs, 2000);
 * equal(options.nodeIdHex.length, 16);
 * ```
 */
export function resolveRedisBusOptions(
  options: RedisBusOptions,
): ResolvedRedisBusOptions {
  const url = parseRedisUrl(options.url, "url");
  const nodeId = options.nodeId ?? newNodeId();
  if (nodeId.length !== NODE_ID_BYTES) {
    throw new RangeError(`nodeId must be ${NODE_ID_BYTES} bytes`);
  }
  return {
    url,
    nodeId,
    nodeIdHex: nodeIdHex(nodeId),
    channel: roomChannel(options.room ?? DEFAULT_ROOM),
    logger: options.logger ?? new Logger(),
    maxMessageBytes: options.maxMessageBytes ?? 256 * 1024,
    maxInFlight: options.maxInFlight ?? 2,
    maxBacklogBytes: options.maxBacklogBytes ?? DEFAULT_BUS_BACKLOG_BYTES,
    maxDelayMs: options.maxDelayMs ?? DEFAULT_BUS_MAX_DELAY_MS,
    stallTimeoutMs: options.stallTimeoutMs ?? DEFAULT_BUS_STALL_TIMEOUT_MS,
    connectTimeoutMs: options.connectTimeoutMs ?? 5000,
    reconnectMinMs: options.reconnectMinMs ?? 50,
    reconnectMaxMs: options.reconnectMaxMs ?? 250,
    closeTimeoutMs: options.closeTimeoutMs ?? 1000,
    joinSlackMs: options.joinSlackMs ?? 2,
  };
}
