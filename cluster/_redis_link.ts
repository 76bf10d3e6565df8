// One of a node's two Redis connections (node-redis) and what the bus
// knows of its health: when it was lost, whether it went silent (a
// stall, found by PING health checks) or was reset, how it reconnects,
// and the `redis-lost` / `redis-stalled` / `redis-resumed` events and
// disconnect counters. Not re-exported.

import { Buffer } from "node:buffer";
import { createClient, SocketTimeoutError } from "redis";
import type { LogFields } from "../server/logger.ts";
import type { BusStats } from "./bus_stats.ts";
import type { ResolvedRedisBusOptions } from "./redis_bus_options.ts";

type RedisClient = ReturnType<typeof createClient>;

/** What a connection is for: a node publishes on one, subscribes on the other. */
export type LinkRole = "publisher" | "subscriber";

/** Options for {@linkcode RedisLink}. */
export interface RedisLinkOptions extends
  Pick<
    ResolvedRedisBusOptions,
    | "url"
    | "nodeIdHex"
    | "logger"
    | "stallTimeoutMs"
    | "connectTimeoutMs"
    | "reconnectMinMs"
    | "reconnectMaxMs"
  > {
  /** Names the connection (`CLIENT LIST`, logs) and its counters. */
  role: LinkRole;
  /** Where its disconnects and stalls are counted. */
  stats: BusStats;
  /** Whether the bus is closing: a loss is then expected, not retried. */
  closing: () => boolean;
  /** Called when an outage begins, after it is counted and logged. */
  onLost?: () => void;
}

/**
 * A Redis connection that reconnects by itself (50 ms doubling to 250 ms
 * by default, with jitter) and reports each outage once when it begins
 * and once when it ends.
 *
 * @example
 * ```ts ignore
 * import { BusStats } from "./bus_stats.ts";
 * import { RedisLink } from "./_redis_link.ts";
 * import { resolveRedisBusOptions } from "./redis_bus_options.ts";
 *
 * const options = resolveRedisBusOptions({ url: "redis://127.0.0.1:6379" });
 * const link = new RedisLink({
 *   ...options,
 *   role: "publisher",
 *   stats: new BusStats(),
 *   closing: () => false,
 * });
 * await link.connect();
 * await link.publish(options.channel, new Uint8Array([1]));
 * await link.shut();
 * ```
 */
export class RedisLink {
  /** What the connection is for. */
  readonly role: LinkRole;

  readonly #options: RedisLinkOptions;
  readonly #client: RedisClient;
  /** Ready once at least (after that, losses are outages). */
  #everReady = false;
  /** Lost and not yet back. */
  #down = false;
  #downSince = 0;
  #attempts = 0;
  /** Lines not published during the current outage (publisher). */
  #outageLines = 0;
  /** The current outage began with the connection going silent. */
  #stalled = false;

  /** Creates the client; {@linkcode RedisLink.connect} connects it. */
  constructor(options: RedisLinkOptions) {
    this.role = options.role;
    this.#options = options;
    const { stallTimeoutMs, reconnectMinMs, reconnectMaxMs } = options;
    this.#client = createClient({
      url: options.url.url,
      name: `linechat-${
        this.role === "publisher" ? "pub" : "sub"
      }-${options.nodeIdHex}`,
      // While Redis is away, PUBLISH fails at once (and is counted)
      // instead of piling up in an unbounded offline queue.
      disableOfflineQueue: true,
      // Health checks: a PING every quarter stall timeout keeps a
      // healthy connection from ever being silent that long, so silence
      // means Redis stopped answering (paused, blocked, or the network
      // lost without a reset), and the socket timeout below ends it.
      pingInterval: Math.max(1, Math.floor(stallTimeoutMs / 4)),
      socket: {
        connectTimeout: options.connectTimeoutMs,
        // node-redis closes a socket silent this long (which rejects
        // what awaits a reply), then reconnects by the strategy below;
        // a reconnection whose handshake hangs times out the same way.
        socketTimeout: stallTimeoutMs,
        noDelay: true,
        keepAlive: true,
        reconnectStrategy: (retries: number, cause: Error) => {
          // Unreachable at start: fail, so the node can exit.
          if (!this.#everReady) return cause;
          if (options.closing()) return false;
          const delay = Math.min(
            reconnectMaxMs,
            reconnectMinMs * 2 ** Math.min(retries, 16),
          );
          return Math.round(delay * (0.75 + Math.random() / 4));
        },
      },
    });
    this.#client.on("ready", () => this.#up());
    this.#client.on("error", (error: Error) => this.#lost(error));
    this.#client.on("reconnecting", () => this.#lost(undefined));
  }

  /** Whether it has been ready and is not lost now. */
  get up(): boolean {
    return this.#everReady && !this.#down;
  }

  /** Whether it was lost and is not back yet. */
  get down(): boolean {
    return this.#down;
  }

  /** Adds `lines` to what `redis-resumed` reports unpublished, if down. */
  countUnpublished(lines: number): void {
    if (this.#down) this.#outageLines += lines;
  }

  /** Connects; rejects if Redis cannot be reached (no retry at start). */
  async connect(): Promise<void> {
    await this.#client.connect();
  }

  /** Subscribes to `channel`; messages arrive as bytes. */
  async subscribe(
    channel: string,
    listener: (message: Uint8Array) => void,
  ): Promise<void> {
    await this.#client.subscribe(channel, listener, true);
  }

  /** PUBLISHes one message; a client that throws rejects instead. */
  publish(channel: string, message: Uint8Array): Promise<unknown> {
    try {
      return this.#client.publish(
        channel,
        Buffer.from(message.buffer, message.byteOffset, message.length),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Drops the connection at once, if it is open. */
  destroy(): void {
    if (this.#client.isOpen) this.#client.destroy();
  }

  /**
   * Closes politely if ready, waiting at most the stall timeout, and
   * drops the connection otherwise.
   */
  async shut(): Promise<void> {
    const client = this.#client;
    try {
      if (client.isReady) {
        // A stalled Redis would keep a polite close waiting for replies.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const closed = await Promise.race([
          client.close().then(() => true),
          new Promise<false>((resolve) =>
            timer = setTimeout(
              () => resolve(false),
              this.#options.stallTimeoutMs,
            )
          ),
        ]);
        clearTimeout(timer);
        if (!closed && client.isOpen) client.destroy();
      } else if (client.isOpen) client.destroy();
    } catch {
      // Closed meanwhile.
    }
  }

  #up(): void {
    if (!this.#everReady) {
      this.#everReady = true;
      return;
    }
    if (!this.#down) return;
    this.#down = false;
    const fields: LogFields = {
      node: this.#options.nodeIdHex,
      role: this.role,
      down_ms: Date.now() - this.#downSince,
      attempts: this.#attempts,
      stalled: this.#stalled,
    };
    if (this.role === "publisher") {
      fields.lines_unpublished = this.#outageLines;
      this.#outageLines = 0;
    }
    this.#options.logger.event("redis-resumed", fields);
  }

  #lost(error: Error | undefined): void {
    const options = this.#options;
    if (!this.#everReady || options.closing()) return;
    if (this.#down) {
      if (error !== undefined) this.#attempts++;
      return;
    }
    this.#down = true;
    this.#downSince = Date.now();
    this.#attempts = 0;
    this.#outageLines = 0;
    this.#stalled = error instanceof SocketTimeoutError;
    const publisher = this.role === "publisher";
    const { stats } = options;
    if (publisher) stats.publisherDisconnects++;
    else stats.subscriberDisconnects++;
    if (this.#stalled) {
      if (publisher) stats.publisherStalls++;
      else stats.subscriberStalls++;
    }
    options.logger.event(this.#stalled ? "redis-stalled" : "redis-lost", {
      node: options.nodeIdHex,
      role: this.role,
      error: error?.message ?? "connection closed",
      ...(this.#stalled ? { stall_timeout_ms: options.stallTimeoutMs } : {}),
      effect: publisher
        ? "local lines are relayed locally only until Redis is back"
        : "lines of other nodes are not received until Redis is back",
    });
    options.onLost?.();
  }
}
