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
 * @module
 */

import { Buffer } from "node:buffer";
import { createClient, SocketTimeoutError } from "redis";
import { Batch } from "../server/batch.ts";
import type { LogFields } from "../server/logger.ts";
import { Logger } from "../server/logger.ts";
import type { Room, RoomMember } from "../server/room.ts";
import { WindowedReport } from "./_windowed_report.ts";
import {
  DEFAULT_BUS_BACKLOG_BYTES,
  DEFAULT_BUS_MAX_DELAY_MS,
  DEFAULT_BUS_STALL_TIMEOUT_MS,
} from "./bus_limits.ts";
import { BusStats } from "./bus_stats.ts";
import {
  type BusEntry,
  type BusMessage,
  decodeMessage,
  encodeMessage,
  HEADER_BYTES,
  MESSAGE_VERSION,
  newNodeId,
  NODE_ID_BYTES,
  nodeIdHex,
} from "./message.ts";
import {
  type BacklogDropReason,
  type BacklogEntry,
  PublishBacklog,
} from "./publish_backlog.ts";
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
   * counted in {@linkcode BusStats.linesBacklogFull} and logged
   * (`cluster-backlog-full`); see `publish_backlog.ts`.
   *
   * @default {16777216}
   */
  maxBacklogBytes?: number;
  /**
   * A cross-node line arrives within this many ms of being relayed on its
   * node, or not at all: a batch not published by then is dropped
   * ({@linkcode BusStats.linesExpired}, `cluster-expired`), and one
   * arriving older (by its `completedAt` and this node's clock) is dropped
   * by the receiving node ({@linkcode BusStats.linesLate},
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
  /** The current outage began with the connection going silent. */
  stalled: boolean;
}

/** What this node knows of another node's messages. */
interface Peer {
  /** The sequence number its next message should have. */
  nextSequence: number;
  /** The line mark of its last message (`undefined` for version 1). */
  lineMark: number | undefined;
  /** Reports its lost lines (`cluster-gap`). */
  gaps: WindowedReport;
  /** Reports its batches dropped as late (`cluster-late`). */
  late: WindowedReport;
  /** Reports batches stamped in this node's future (`cluster-clock-skew`). */
  skew: WindowedReport;
}

/**
 * A batch stamped this far in the receiving node's future means the two
 * clocks disagree (lateness is judged across them), which is logged.
 */
const CLOCK_SKEW_WARN_MS = 100;

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
  readonly #maxDelayMs: number;
  readonly #stallTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #reconnectMinMs: number;
  readonly #reconnectMaxMs: number;
  readonly #closeTimeoutMs: number;
  readonly #joinSlackMs: number;
  readonly #maxBacklogBytes: number;
  readonly #publisher: Link;
  readonly #subscriber: Link;
  readonly #backlog: PublishBacklog;
  readonly #backlogFull: WindowedReport;
  readonly #expired: WindowedReport;
  /** Other nodes heard from, by hex id. */
  readonly #peers = new Map<string, Peer>();

  #room: Room<RoomMember> | undefined;
  #inFlight = 0;
  #flushScheduled = false;
  #expiryTimer: ReturnType<typeof setTimeout> | undefined;
  #sequence = 0;
  /** Local lines offered to the bus so far (mod 2^32): the line mark. */
  #lineMark = 0;
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
    this.#maxDelayMs = options.maxDelayMs ?? DEFAULT_BUS_MAX_DELAY_MS;
    this.#stallTimeoutMs = options.stallTimeoutMs ??
      DEFAULT_BUS_STALL_TIMEOUT_MS;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.#reconnectMinMs = options.reconnectMinMs ?? 50;
    this.#reconnectMaxMs = options.reconnectMaxMs ?? 250;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 1000;
    this.#joinSlackMs = options.joinSlackMs ?? 2;
    this.#maxBacklogBytes = options.maxBacklogBytes ??
      DEFAULT_BUS_BACKLOG_BYTES;
    this.#backlog = new PublishBacklog({
      maxBytes: this.#maxBacklogBytes,
      maxDelayMs: this.#maxDelayMs,
      onDrop: (entry, reason) => this.#dropped(entry, reason),
    });
    this.#backlogFull = new WindowedReport(
      this.#logger,
      "cluster-backlog-full",
      {
        node: this.nodeId,
        max_backlog_bytes: this.#maxBacklogBytes,
        effect:
          "lines of the senders holding the most of the backlog are relayed locally only",
      },
    );
    this.#expired = new WindowedReport(this.#logger, "cluster-expired", {
      node: this.nodeId,
      max_delay_ms: this.#maxDelayMs,
      effect: "lines not published in time are relayed locally only",
    });
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
    return this.#backlog.bytes;
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
    room.onBroadcast((from, batch) => {
      if (from === null) return;
      try {
        this.#publish(from.id, batch);
      } catch (error) {
        // Never let the bus break the local relay that called it.
        this.#unpublished(batch.lineCount, 1);
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
      max_delay_ms: this.#maxDelayMs,
      stall_timeout_ms: this.#stallTimeoutMs,
      max_backlog_bytes: this.#maxBacklogBytes,
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
    if (this.#inFlight > 0 || this.#backlog.length > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#onIdle = resolve),
        new Promise<void>((resolve) =>
          timer = setTimeout(resolve, this.#closeTimeoutMs)
        ),
      ]);
      clearTimeout(timer);
    }
    this.#backlog.clear();
    clearTimeout(this.#expiryTimer);
    await Promise.all([
      this.#shut(this.#subscriber.client),
      this.#shut(this.#publisher.client),
    ]);
    // What the reports still owe goes out before the summary.
    this.#backlogFull.close();
    this.#expired.close();
    for (const peer of this.#peers.values()) {
      peer.gaps.close();
      peer.late.close();
      peer.skew.close();
    }
    const summary = { node: this.nodeId, ...this.stats.summary() };
    this.#logger.event("cluster-closed", summary);
    return summary;
  }

  async #shut(client: RedisClient): Promise<void> {
    try {
      if (client.isReady) {
        // A stalled Redis would keep a polite close waiting for replies.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const closed = await Promise.race([
          client.close().then(() => true),
          new Promise<false>((resolve) =>
            timer = setTimeout(() => resolve(false), this.#stallTimeoutMs)
          ),
        ]);
        clearTimeout(timer);
        if (!closed && client.isOpen) client.destroy();
      } else if (client.isOpen) client.destroy();
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
      stalled: false,
      client: createClient({
        url: this.#url.url,
        name: `linechat-${role === "publisher" ? "pub" : "sub"}-${this.nodeId}`,
        // While Redis is away, PUBLISH fails at once (and is counted)
        // instead of piling up in an unbounded offline queue.
        disableOfflineQueue: true,
        // Health checks: a PING every quarter stall timeout keeps a
        // healthy connection from ever being silent that long, so silence
        // means Redis stopped answering (paused, blocked, or the network
        // lost without a reset), and the socket timeout below ends it.
        pingInterval: Math.max(1, Math.floor(this.#stallTimeoutMs / 4)),
        socket: {
          connectTimeout: this.#connectTimeoutMs,
          // node-redis closes a socket silent this long (which rejects
          // what awaits a reply), then reconnects by the strategy below;
          // a reconnection whose handshake hangs times out the same way.
          socketTimeout: this.#stallTimeoutMs,
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
      stalled: link.stalled,
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
    link.outageLines = 0;
    link.stalled = error instanceof SocketTimeoutError;
    const publisher = link.role === "publisher";
    if (publisher) this.stats.publisherDisconnects++;
    else this.stats.subscriberDisconnects++;
    if (link.stalled) {
      if (publisher) this.stats.publisherStalls++;
      else this.stats.subscriberStalls++;
    }
    this.#logger.event(link.stalled ? "redis-stalled" : "redis-lost", {
      node: this.nodeId,
      role: link.role,
      error: error?.message ?? "connection closed",
      ...(link.stalled ? { stall_timeout_ms: this.#stallTimeoutMs } : {}),
      effect: publisher
        ? "local lines are relayed locally only until Redis is back"
        : "lines of other nodes are not received until Redis is back",
    });
    // What waits would be published late, if ever: drop it now, which
    // also stops holding its senders back.
    if (publisher) this.#backlog.clear();
  }

  // ---- publishing ----------------------------------------------------

  #publish(senderId: number, batch: Batch): void {
    const lineCount = batch.lineCount;
    // Every local line counts, published or not, so receivers can count
    // what they missed from the marks (see message.ts).
    this.#lineMark = (this.#lineMark + lineCount) >>> 0;
    if (this.#closing !== undefined || this.#publisher.down) {
      this.#unpublished(lineCount, 1);
      return;
    }
    // Held until its PUBLISH is answered or it is dropped: a Redis that
    // takes nothing slows the sender like a client that reads nothing,
    // for at most the sender window's wait (flood control, §4.9).
    batch.hold();
    const queued = this.#backlog.push({
      completedAt: Date.now(),
      senderId,
      lineCount,
      batch: batch.bytes,
      lineMark: this.#lineMark,
      held: batch,
    });
    if (!queued) return;
    this.#armExpiry();
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
    if (this.#publisher.down) this.#publisher.outageLines += lines;
  }

  /** The backlog dropped a batch (already released); count and report. */
  #dropped(entry: BacklogEntry, reason: BacklogDropReason): void {
    this.#unpublished(entry.lineCount, 1);
    if (reason === "full") {
      this.stats.linesBacklogFull += entry.lineCount;
      this.#backlogFull.add({ lines_dropped: entry.lineCount }, {
        backlog_bytes: this.#backlog.bytes,
      });
    } else if (reason === "expired") {
      this.stats.linesExpired += entry.lineCount;
      this.#expired.add({ lines_dropped: entry.lineCount }, {
        waited_ms: Date.now() - entry.completedAt,
      });
    }
  }

  /** Drops queued batches as they pass `maxDelayMs`, even if none is sent. */
  #armExpiry(): void {
    if (this.#expiryTimer !== undefined) return;
    const next = this.#backlog.nextExpiry;
    if (next === undefined) return;
    this.#expiryTimer = setTimeout(() => {
      this.#expiryTimer = undefined;
      this.#backlog.expire();
      this.#settled();
      this.#armExpiry();
    }, Math.max(0, next - Date.now()) + 1);
    Deno.unrefTimer(this.#expiryTimer as unknown as number);
  }

  /** Sends queued batches, as few messages as fit, while slots are free. */
  #flush(): void {
    while (this.#inFlight < this.#maxInFlight) {
      const entries = this.#backlog.take(this.#maxMessageBytes - HEADER_BYTES);
      if (entries.length === 0) break;
      let lines = 0;
      for (const entry of entries) lines += entry.lineCount;
      const message = encodeMessage(
        this.#nodeIdBytes,
        this.#sequence,
        entries,
        entries[entries.length - 1].lineMark,
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
        for (const entry of entries) entry.held?.release();
        this.#inFlight--;
        this.#flush();
      });
    }
    this.#settled();
  }

  /** Tells a waiting close that everything queued is settled. */
  #settled(): void {
    if (this.#backlog.length === 0 && this.#inFlight === 0) this.#onIdle?.();
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

  // ---- receiving -----------------------------------------------------

  #receive(message: Buffer): void {
    const bytes = new Uint8Array(
      message.buffer,
      message.byteOffset,
      message.byteLength,
    );
    if (
      (bytes[0] === MESSAGE_VERSION || bytes[0] === 1) && this.#isOwn(bytes)
    ) {
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
    this.stats.messagesReceived++;
    this.stats.bytesReceived += bytes.length;
    const now = Date.now();
    const peer = this.#peer(nodeIdHex(decoded.nodeId));
    let lines = 0;
    for (const entry of decoded.entries) lines += entry.lineCount;
    if (!this.#inOrder(peer, decoded, lines)) {
      // Older than a message already delivered (a replay, or a reorder
      // around a reconnect, which Redis does not do): delivering it
      // would break per-sender order (§2.6).
      this.stats.linesLate += lines;
      this.stats.batchesLate += decoded.entries.length;
      peer.late.add({
        lines_late: lines,
        batches_late: decoded.entries.length,
      }, { age_ms: now - decoded.entries[0].completedAt });
      return;
    }
    const room = this.#room;
    // One pass over the members per message: who joined last.
    const newest = room === undefined
      ? -Infinity
      : newestJoin(room) - this.#joinSlackMs;
    let lateLines = 0;
    let lateBatches = 0;
    let oldest = -Infinity;
    for (const entry of decoded.entries) {
      const age = now - entry.completedAt;
      if (age < -CLOCK_SKEW_WARN_MS) {
        peer.skew.add({ batches: 1 }, { ahead_ms: -age });
      }
      if (age > this.#maxDelayMs) {
        // Another node's line this old would arrive out of context: the
        // rule is within maxDelayMs or not at all.
        lateLines += entry.lineCount;
        lateBatches++;
        if (age > oldest) oldest = age;
        continue;
      }
      if (age > this.stats.maxReceivedAgeMs) this.stats.maxReceivedAgeMs = age;
      this.stats.linesReceived += entry.lineCount;
      if (room !== undefined) {
        deliverRemote(room, entry, newest, this.#joinSlackMs);
      }
    }
    if (lateBatches > 0) {
      this.stats.linesLate += lateLines;
      this.stats.batchesLate += lateBatches;
      peer.late.add({ lines_late: lateLines, batches_late: lateBatches }, {
        age_ms: oldest,
      });
    }
  }

  #peer(from: string): Peer {
    let peer = this.#peers.get(from);
    if (peer === undefined) {
      const fields = { node: this.nodeId, from_node: from };
      peer = {
        nextSequence: -1,
        lineMark: undefined,
        gaps: new WindowedReport(this.#logger, "cluster-gap", {
          ...fields,
          effect: "lines of that node never arrived here",
        }),
        late: new WindowedReport(this.#logger, "cluster-late", {
          ...fields,
          max_delay_ms: this.#maxDelayMs,
          effect: "lines of that node arrived too late and were dropped",
        }),
        skew: new WindowedReport(this.#logger, "cluster-clock-skew", {
          ...fields,
          effect:
            "that node's clock is ahead of this one's: its lines may arrive up to ahead_ms later than the bound",
        }),
      };
      this.#peers.set(from, peer);
    }
    return peer;
  }

  /**
   * Checks `message` against what came before from its node: counts and
   * reports the messages and lines missed in between, and returns false
   * for a message older than one already received.
   */
  #inOrder(peer: Peer, message: BusMessage, lines: number): boolean {
    const { sequence, lineMark } = message;
    if (peer.nextSequence === -1) {
      // The first heard from this node: nothing to compare with.
      peer.nextSequence = (sequence + 1) >>> 0;
      peer.lineMark = lineMark;
      return true;
    }
    const missedMessages = (sequence - peer.nextSequence) >>> 0;
    if (missedMessages >= 2 ** 31) return false;
    let missedLines = 0;
    if (lineMark !== undefined && peer.lineMark !== undefined) {
      const offered = (lineMark - peer.lineMark) >>> 0;
      if (offered >= lines && offered < 2 ** 31) missedLines = offered - lines;
    }
    peer.nextSequence = (sequence + 1) >>> 0;
    peer.lineMark = lineMark;
    if (missedMessages > 0 || missedLines > 0) {
      this.stats.messagesMissed += missedMessages;
      this.stats.linesMissed += missedLines;
      peer.gaps.add({
        messages_missed: missedMessages,
        lines_missed: missedLines,
      });
    }
    return true;
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
  const { completedAt, lineCount } = entry;
  const batch = new Batch(entry.batch, lineCount);
  if (newest <= completedAt) {
    room.broadcast(null, batch);
    return;
  }
  const since = completedAt + slackMs;
  room.deliverTo(batch, (member) => !(connectedAt(member) > since));
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
