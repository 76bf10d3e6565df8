/**
 * The cluster bus: joins a node's {@linkcode Room} to the rooms of the
 * other nodes through one Redis pub/sub channel.
 *
 * Lines local clients complete are delivered locally by the room at once
 * (the bus never delays them); the bus sees each local batch through
 * `Room.onBroadcast`, queues it (holding it, so a sender is slowed by a
 * slow Redis as by a slow client), and publishes what is queued as one
 * message (see `message.ts`) as soon as the current turn of the event loop
 * ends, so a burst of lines costs one PUBLISH, not one round trip each.
 * Messages from other nodes are delivered to every local client; the
 * node's own messages, which Redis sends back, are skipped.
 *
 * A cross-node line arrives within `maxDelayMs` or not at all: the queue
 * drops what waited longer (see `publish_backlog.ts`), the receiving node
 * drops what arrives older, and a Redis that stops answering (paused,
 * blocked, or gone without a reset) is noticed by PING health checks and
 * treated as down until node-redis has reconnected. Every line lost is
 * counted on both sides (`BusStats`) and logged.
 *
 * This module ties the parts together: the options and their defaults
 * (`redis_bus_options.ts`), the two Redis connections and their health
 * (`_redis_link.ts`), publishing (`_bus_publisher.ts`, over
 * `publish_backlog.ts`) and receiving (`_bus_receiver.ts`).
 *
 * @module
 */

import { busMetrics } from "./bus_metrics.ts";
import type { MetricFamily } from "../server/metrics.ts";
import type { LogFields } from "../server/logger.ts";
import type { Room, RoomMember } from "../server/room.ts";
import { BusPublisher } from "./_bus_publisher.ts";
import { BusReceiver } from "./_bus_receiver.ts";
import { RedisLink } from "./_redis_link.ts";
import { BusStats } from "./bus_stats.ts";
import {
  type RedisBusOptions,
  type ResolvedRedisBusOptions,
  resolveRedisBusOptions,
} from "./redis_bus_options.ts";

export type { RedisBusOptions } from "./redis_bus_options.ts";

/** Raised by {@linkcode connectRedisBus} when Redis cannot be reached. */
export class RedisUnavailableError extends Error {
  /** Creates the error with a one-line reason. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RedisUnavailableError";
  }
}

/**
 * A node's membership in a cluster room. Create with
 * {@linkcode connectRedisBus}, then {@linkcode RedisBus.attach} a room.
 *
 * @example
 * ```ts ignore
 * import { serve } from "../server/chat_server.ts";
 * import { connectRedisBus } from "./redis_bus.ts";
 *
 * const bus = await connectRedisBus({ url: "redis://127.0.0.1:6379" });
 * const server = serve({ port: 7687 });
 * bus.attach(server.room);
 * // … on shutdown:
 * await server.shutdown();
 * await bus.close();
 * ```
 */
export class RedisBus {
  /** This node's id as 16 hex digits. */
  readonly nodeId: string;
  /** The Redis channel of the room. */
  readonly channel: string;
  /** Counters; see {@linkcode BusStats}. */
  readonly stats: BusStats = new BusStats();

  readonly #options: ResolvedRedisBusOptions;
  readonly #publisherLink: RedisLink;
  readonly #subscriberLink: RedisLink;
  readonly #publisher: BusPublisher;
  readonly #receiver: BusReceiver;
  #closing: Promise<LogFields> | undefined;

  /** Use {@linkcode connectRedisBus}, which also connects. */
  constructor(options: RedisBusOptions) {
    const resolved = resolveRedisBusOptions(options);
    this.#options = resolved;
    this.nodeId = resolved.nodeIdHex;
    this.channel = resolved.channel;
    const stats = this.stats;
    const closing = () => this.#closing !== undefined;
    this.#publisherLink = new RedisLink({
      ...resolved,
      role: "publisher",
      stats,
      closing,
      // What waits would be published late, if ever: drop it now, which
      // also stops holding its senders back.
      onLost: () => this.#publisher.clear(),
    });
    this.#subscriberLink = new RedisLink({
      ...resolved,
      role: "subscriber",
      stats,
      closing,
    });
    this.#publisher = new BusPublisher({
      ...resolved,
      stats,
      link: this.#publisherLink,
      closing,
    });
    this.#receiver = new BusReceiver({ ...resolved, stats });
  }

  /** Whether both Redis connections are up now. */
  get connected(): boolean {
    return this.#publisherLink.up && this.#subscriberLink.up;
  }

  /** Bytes of local batches waiting to be published. */
  get backlogBytes(): number {
    return this.#publisher.backlogBytes;
  }

  /**
   * Connects both connections and subscribes to the room's channel;
   * rejects with {@linkcode RedisUnavailableError} if Redis cannot be
   * reached. {@linkcode connectRedisBus} calls it.
   */
  async connect(): Promise<void> {
    try {
      await this.#publisherLink.connect();
      await this.#subscriberLink.connect();
      await this.#subscriberLink.subscribe(
        this.channel,
        (message) => this.#receiver.receive(message),
      );
    } catch (error) {
      this.#publisherLink.destroy();
      this.#subscriberLink.destroy();
      const reason = error instanceof Error ? error.message : String(error);
      throw new RedisUnavailableError(
        `cannot reach Redis at ${this.#options.url.redacted}: ${reason}`,
        { cause: error },
      );
    }
  }

  /**
   * Joins `room` to the cluster: its local batches (`from !== null`) are
   * published, and other nodes' batches are delivered to its members.
   * Call it once, right after the server starts, before any client joins.
   */
  attach<M extends RoomMember>(room: Room<M>): void {
    if (this.#receiver.room !== undefined) {
      throw new Error("a room is attached");
    }
    this.#receiver.attach(room as unknown as Room<RoomMember>);
    room.onBroadcast((from, batch) => {
      if (from !== null) this.#publisher.offer(from.id, batch);
    });
    const { url, maxDelayMs, stallTimeoutMs, maxBacklogBytes } = this.#options;
    this.#options.logger.event("cluster-joined", {
      node: this.nodeId,
      redis: url.redacted,
      channel: this.channel,
      max_delay_ms: maxDelayMs,
      stall_timeout_ms: stallTimeoutMs,
      max_backlog_bytes: maxBacklogBytes,
    });
  }

  /** The bus's metric families, for the server's `/metrics`. */
  metrics(): MetricFamily[] {
    return busMetrics(this.stats, this.connected);
  }

  /**
   * Publishes what is queued (for at most `closeTimeoutMs`), closes both
   * connections, logs the counters as `cluster-closed` and resolves with
   * them. Calling it again returns the same promise.
   */
  close(): Promise<LogFields> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<LogFields> {
    const publisher = this.#publisher;
    if (publisher.pending) await publisher.idle(this.#options.closeTimeoutMs);
    publisher.stop();
    await Promise.all([
      this.#subscriberLink.shut(),
      this.#publisherLink.shut(),
    ]);
    // What the reports still owe goes out before the summary.
    publisher.closeReports();
    this.#receiver.closeReports();
    const summary = { node: this.nodeId, ...this.stats.summary() };
    this.#options.logger.event("cluster-closed", summary);
    return summary;
  }
}

/**
 * Creates a {@linkcode RedisBus} and connects it: resolves once both
 * connections are up and subscribed, rejects with
 * {@linkcode RedisUnavailableError} (a one-line message) otherwise.
 *
 * @example
 * ```ts ignore
 * import { connectRedisBus } from "./redis_bus.ts";
 * import { serve } from "../server/chat_server.ts";
 *
 * const bus = await connectRedisBus({ url: "redis://127.0.0.1:6379", room: "lobby" });
 * const server = serve({ port: 0 });
 * bus.attach(server.room);
 * await server.shutdown();
 * await bus.close();
 * ```
 */
export async function connectRedisBus(
  options: RedisBusOptions,
): Promise<RedisBus> {
  const bus = new RedisBus(options);
  await bus.connect();
  return bus;
}
