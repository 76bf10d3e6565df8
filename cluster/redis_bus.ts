/**
 * The cluster bus: joins a node's {@linkcode Room} to the rooms of the
 * other nodes through one Redis pub/sub channel.
 *
 * Lines local clients complete are delivered locally by the room at once
 * (the bus never delays them); the bus sees each local batch through
 * `Room.onBroadcast`, queues it, and publishes what is queued as one
 * message (see `message.ts`) as soon as the current turn of the event loop
 * ends, so a burst of lines costs one PUBLISH, not one round trip each.
 * Messages from other nodes are delivered to every local client; the
 * node's own messages, which Redis sends back, are skipped.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createClient } from "redis";
import type { LogFields } from "../server/logger.ts";
import { Logger } from "../server/logger.ts";
import type { Room, RoomMember } from "../server/room.ts";
import { BusStats } from "./bus_stats.ts";
import {
  type BusEntry,
  decodeMessage,
  encodeMessage,
  entrySize,
  HEADER_BYTES,
  MESSAGE_VERSION,
  newNodeId,
  NODE_ID_BYTES,
  nodeIdHex,
} from "./message.ts";
import {
  DEFAULT_ROOM,
  parseRedisUrl,
  type RedisUrl,
  roomChannel,
} from "./redis_url.ts";

/** Options for {@linkcode connectRedisBus}. */
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
   * Where events go (`cluster-joined`, `redis-lost`, `redis-resumed`,
   * `cluster-gap`, `cluster-closed`, …).
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
   * Most bytes queued for publishing while Redis is slow to answer; a
   * batch beyond it is not published (counted in
   * {@linkcode BusStats.linesUnpublished} and logged).
   *
   * @default {16777216}
   */
  maxBacklogBytes?: number;
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
   * @default {100}
   */
  reconnectMinMs?: number;
  /**
   * Longest delay between reconnection attempts.
   *
   * @default {2000}
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

/** Raised by {@linkcode connectRedisBus} when Redis cannot be reached. */
export class RedisUnavailableError extends Error {
  /** Creates the error with a one-line reason. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RedisUnavailableError";
  }
}

type RedisClient = ReturnType<typeof createClient>;
type Role = "publisher" | "subscriber";

/** A Redis connection and what the bus knows of its health. */
interface Link {
  readonly role: Role;
  readonly client: RedisClient;
  /** Ready once at least (after that, losses are outages). */
  everReady: boolean;
  /** Lost and not yet back. */
  down: boolean;
  downSince: number;
  attempts: number;
  /** Lines not published during the current outage (publisher). */
  outageLines: number;
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

  readonly #nodeIdBytes: Uint8Array;
  readonly #url: RedisUrl;
  readonly #logger: Logger;
  readonly #maxMessageBytes: number;
  readonly #maxInFlight: number;
  readonly #maxBacklogBytes: number;
  readonly #connectTimeoutMs: number;
  readonly #reconnectMinMs: number;
  readonly #reconnectMaxMs: number;
  readonly #closeTimeoutMs: number;
  readonly #joinSlackMs: number;
  readonly #publisher: Link;
  readonly #subscriber: Link;
  /** Next sequence number per remote node (hex id). */
  readonly #expected = new Map<string, number>();

  #room: Room<RoomMember> | undefined;
  #queue: BusEntry[] = [];
  #queueHead = 0;
  #queuedBytes = 0;
  #inFlight = 0;
  #flushScheduled = false;
  #backlogFull = false;
  #sequence = 0;
  #closing: Promise<LogFields> | undefined;
  #onIdle: (() => void) | undefined;

  /** Use {@linkcode connectRedisBus}, which also connects. */
  constructor(options: RedisBusOptions) {
    this.#url = parseRedisUrl(options.url, "url");
    this.#nodeIdBytes = options.nodeId ?? newNodeId();
    if (this.#nodeIdBytes.length !== NODE_ID_BYTES) {
      throw new RangeError(`nodeId must be ${NODE_ID_BYTES} bytes`);
    }
    this.nodeId = nodeIdHex(this.#nodeIdBytes);
    this.channel = roomChannel(options.room ?? DEFAULT_ROOM);
    this.#logger = options.logger ?? new Logger();
    this.#maxMessageBytes = options.maxMessageBytes ?? 256 * 1024;
    this.#maxInFlight = options.maxInFlight ?? 2;
    this.#maxBacklogBytes = options.maxBacklogBytes ?? 16 * 1024 * 1024;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.#reconnectMinMs = options.reconnectMinMs ?? 100;
    this.#reconnectMaxMs = options.reconnectMaxMs ?? 2000;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 1000;
    this.#joinSlackMs = options.joinSlackMs ?? 2;
    this.#publisher = this.#link("publisher");
    this.#subscriber = this.#link("subscriber");
  }

  /** Whether both Redis connections are up now. */
  get connected(): boolean {
    return !this.#publisher.down && !this.#subscriber.down &&
      this.#publisher.everReady && this.#subscriber.everReady;
  }

  /** Bytes of local batches waiting to be published. */
  get backlogBytes(): number {
    return this.#queuedBytes;
  }

  /**
   * Connects both connections and subscribes to the room's channel;
   * rejects with {@linkcode RedisUnavailableError} if Redis cannot be
   * reached. {@linkcode connectRedisBus} calls it.
   */
  async connect(): Promise<void> {
    try {
      await this.#publisher.client.connect();
      await this.#subscriber.client.connect();
      await this.#subscriber.client.subscribe(
        this.channel,
        (message: Buffer) => {
          try {
            this.#receive(message);
          } catch (error) {
            this.#logger.event("internal-error", {
              where: "cluster-receive",
              error: String(error),
            });
          }
        },
        true,
      );
    } catch (error) {
      for (const { client } of [this.#publisher, this.#subscriber]) {
        if (client.isOpen) client.destroy();
      }
      const reason = error instanceof Error ? error.message : String(error);
      throw new RedisUnavailableError(
        `cannot reach Redis at ${this.#url.redacted}: ${reason}`,
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
    if (this.#room !== undefined) throw new Error("a room is attached");
    this.#room = room as unknown as Room<RoomMember>;
    room.onBroadcast((from, batch, lineCount) => {
      if (from === null) return;
      try {
        this.#publish(from.id, batch, lineCount);
      } catch (error) {
        // Never let the bus break the local relay that called it.
        this.#unpublished(lineCount, 1);
        this.#logger.event("internal-error", {
          where: "cluster-publish",
          error: String(error),
        });
      }
    });
    this.#logger.event("cluster-joined", {
      node: this.nodeId,
      redis: this.#url.redacted,
      channel: this.channel,
    });
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
    if (this.#inFlight > 0 || this.#queueHead < this.#queue.length) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#onIdle = resolve),
        new Promise<void>((resolve) =>
          timer = setTimeout(resolve, this.#closeTimeoutMs)
        ),
      ]);
      clearTimeout(timer);
    }
    this.#dropQueued();
    await Promise.all([
      this.#shut(this.#subscriber.client),
      this.#shut(this.#publisher.client),
    ]);
    const summary = { node: this.nodeId, ...this.stats.summary() };
    this.#logger.event("cluster-closed", summary);
    return summary;
  }

  async #shut(client: RedisClient): Promise<void> {
    try {
      if (client.isReady) await client.close();
      else if (client.isOpen) client.destroy();
    } catch {
      // Closed meanwhile.
    }
  }

  #link(role: Role): Link {
    const link: Link = {
      role,
      everReady: false,
      down: false,
      downSince: 0,
      attempts: 0,
      outageLines: 0,
      client: createClient({
        url: this.#url.url,
        name: `linechat-${role === "publisher" ? "pub" : "sub"}-${this.nodeId}`,
        // While Redis is away, PUBLISH fails at once (and is counted)
        // instead of piling up in an unbounded offline queue.
        disableOfflineQueue: true,
        socket: {
          connectTimeout: this.#connectTimeoutMs,
          noDelay: true,
          keepAlive: true,
          reconnectStrategy: (retries: number, cause: Error) => {
            // Unreachable at start: fail, so the node can exit.
            if (!link.everReady) return cause;
            if (this.#closing !== undefined) return false;
            const delay = Math.min(
              this.#reconnectMaxMs,
              this.#reconnectMinMs * 2 ** Math.min(retries, 16),
            );
            return Math.round(delay * (0.75 + Math.random() / 4));
          },
        },
      }),
    };
    link.client.on("ready", () => this.#up(link));
    link.client.on("error", (error: Error) => this.#lost(link, error));
    link.client.on("reconnecting", () => this.#lost(link, undefined));
    return link;
  }

  #up(link: Link): void {
    if (!link.everReady) {
      link.everReady = true;
      return;
    }
    if (!link.down) return;
    link.down = false;
    const fields: LogFields = {
      node: this.nodeId,
      role: link.role,
      down_ms: Date.now() - link.downSince,
      attempts: link.attempts,
    };
    if (link.role === "publisher") {
      fields.lines_unpublished = link.outageLines;
      link.outageLines = 0;
    }
    this.#logger.event("redis-resumed", fields);
  }

  #lost(link: Link, error: Error | undefined): void {
    if (!link.everReady || this.#closing !== undefined) return;
    if (link.down) {
      if (error !== undefined) link.attempts++;
      return;
    }
    link.down = true;
    link.downSince = Date.now();
    link.attempts = 0;
    if (link.role === "publisher") this.stats.publisherDisconnects++;
    else this.stats.subscriberDisconnects++;
    this.#logger.event("redis-lost", {
      node: this.nodeId,
      role: link.role,
      error: error?.message ?? "connection closed",
      effect: link.role === "publisher"
        ? "local lines are relayed locally only until Redis is back"
        : "lines of other nodes are not received until Redis is back",
    });
  }

  // ---- publishing ----------------------------------------------------

  #publish(senderId: number, batch: Uint8Array, lineCount: number): void {
    if (this.#closing !== undefined || this.#publisher.down) {
      this.#unpublished(lineCount, 1);
      return;
    }
    const size = entrySize(batch);
    if (this.#queuedBytes + size > this.#maxBacklogBytes) {
      this.#unpublished(lineCount, 1);
      if (!this.#backlogFull) {
        this.#backlogFull = true;
        this.#logger.event("cluster-backlog-full", {
          node: this.nodeId,
          backlog_bytes: this.#queuedBytes,
          effect: "local lines are relayed locally only until Redis catches up",
        });
      }
      return;
    }
    this.#queue.push({ completedAt: Date.now(), senderId, lineCount, batch });
    this.#queuedBytes += size;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      // After the current turn, so batches of many clients go together.
      queueMicrotask(() => {
        this.#flushScheduled = false;
        this.#flush();
      });
    }
  }

  #unpublished(lines: number, batches: number): void {
    this.stats.linesUnpublished += lines;
    this.stats.batchesUnpublished += batches;
    this.#publisher.outageLines += lines;
  }

  /** Sends queued batches, as few messages as fit, while slots are free. */
  #flush(): void {
    while (
      this.#queueHead < this.#queue.length && this.#inFlight < this.#maxInFlight
    ) {
      const queue = this.#queue;
      let end = this.#queueHead + 1;
      let size = HEADER_BYTES + entrySize(queue[this.#queueHead].batch);
      while (end < queue.length) {
        const next = entrySize(queue[end].batch);
        if (size + next > this.#maxMessageBytes) break;
        size += next;
        end++;
      }
      const entries = queue.slice(this.#queueHead, end);
      this.#queueHead = end;
      if (this.#queueHead === queue.length) {
        this.#queue = [];
        this.#queueHead = 0;
      }
      let lines = 0;
      for (const entry of entries) lines += entry.lineCount;
      this.#queuedBytes -= size - HEADER_BYTES;
      const message = encodeMessage(
        this.#nodeIdBytes,
        this.#sequence,
        entries,
      );
      this.#sequence = (this.#sequence + 1) >>> 0;
      this.#inFlight++;
      this.#send(message).then(
        () => {
          this.stats.messagesPublished++;
          this.stats.linesPublished += lines;
          this.stats.bytesPublished += message.length;
        },
        () => this.#unpublished(lines, entries.length),
      ).finally(() => {
        this.#inFlight--;
        this.#flush();
      });
    }
    if (this.#queueHead === this.#queue.length) {
      this.#backlogFull = false;
      if (this.#inFlight === 0) this.#onIdle?.();
    }
  }

  /** PUBLISHes one message; a client that throws rejects instead. */
  #send(message: Uint8Array): Promise<unknown> {
    try {
      return this.#publisher.client.publish(
        this.channel,
        Buffer.from(message.buffer, message.byteOffset, message.length),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #dropQueued(): void {
    let lines = 0;
    const batches = this.#queue.length - this.#queueHead;
    for (let i = this.#queueHead; i < this.#queue.length; i++) {
      lines += this.#queue[i].lineCount;
    }
    if (batches > 0) this.#unpublished(lines, batches);
    this.#queue = [];
    this.#queueHead = 0;
    this.#queuedBytes = 0;
  }

  // ---- receiving -----------------------------------------------------

  #receive(message: Buffer): void {
    const bytes = new Uint8Array(
      message.buffer,
      message.byteOffset,
      message.byteLength,
    );
    if (bytes[0] === MESSAGE_VERSION && this.#isOwn(bytes)) {
      this.stats.ownMessagesSkipped++;
      return;
    }
    let decoded;
    try {
      decoded = decodeMessage(bytes);
    } catch (error) {
      this.stats.malformedMessages++;
      if (this.stats.malformedMessages <= 10) {
        this.#logger.event("cluster-malformed", {
          node: this.nodeId,
          bytes: bytes.length,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      return;
    }
    const from = nodeIdHex(decoded.nodeId);
    const expected = this.#expected.get(from);
    if (expected !== undefined && decoded.sequence !== expected) {
      const missed = (decoded.sequence - expected) >>> 0;
      if (missed < 2 ** 31) {
        this.stats.messagesMissed += missed;
        this.#logger.event("cluster-gap", {
          node: this.nodeId,
          from_node: from,
          messages_missed: missed,
        });
      }
    }
    this.#expected.set(from, (decoded.sequence + 1) >>> 0);
    this.stats.messagesReceived++;
    this.stats.bytesReceived += bytes.length;
    const room = this.#room;
    if (room === undefined) return;
    // One pass over the members per message: who joined last.
    const newest = newestJoin(room) - this.#joinSlackMs;
    for (const entry of decoded.entries) {
      this.stats.linesReceived += entry.lineCount;
      deliverRemote(room, entry, newest, this.#joinSlackMs);
    }
  }

  #isOwn(bytes: Uint8Array): boolean {
    const id = this.#nodeIdBytes;
    for (let i = 0; i < NODE_ID_BYTES; i++) {
      if (bytes[4 + i] !== id[i]) return false;
    }
    return true;
  }
}

/**
 * Delivers another node's batch to every local member connected when the
 * batch was completed (PROTOCOL.md §2.1, §2.9): a member that says when
 * it connected (`connectedAt`, ms since the epoch, as `ClientConnection`
 * does) and connected more than `slackMs` after `entry.completedAt` does
 * not get it. In the common case nobody is that new (`newest`, the latest
 * `connectedAt` less `slackMs`, is not after it) and the room's own
 * fan-out is used.
 */
function deliverRemote(
  room: Room<RoomMember>,
  entry: BusEntry,
  newest: number,
  slackMs: number,
): void {
  const { completedAt, batch, lineCount } = entry;
  if (newest <= completedAt) {
    room.broadcast(null, batch, lineCount);
    return;
  }
  const since = completedAt + slackMs;
  for (const member of room.members()) {
    if (!(connectedAt(member) > since)) member.deliver(batch);
  }
}

/** The latest `connectedAt` of the room's members (-Infinity if none). */
function newestJoin(room: Room<RoomMember>): number {
  let newest = -Infinity;
  for (const member of room.members()) {
    const at = connectedAt(member);
    if (at > newest) newest = at;
  }
  return newest;
}

function connectedAt(member: RoomMember): number {
  const at = (member as { connectedAt?: unknown }).connectedAt;
  return typeof at === "number" ? at : -Infinity;
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
