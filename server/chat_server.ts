/**
 * The TCP line-chat server: listening, admission, and graceful shutdown.
 *
 * @module
 */

import {
  DEFAULT_MAX_CLIENTS,
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_MAX_PENDING_BYTES,
  DEFAULT_PORT,
} from "../protocol/limits.ts";
import { ClientConnection } from "./client_connection.ts";
import { type LogFields, Logger } from "./logger.ts";
import { Room } from "./room.ts";
import { ServerStats } from "./stats.ts";

/** Options for {@linkcode serve}. */
export interface ChatServerOptions {
  /**
   * Address to listen on.
   *
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * Port to listen on; `0` picks a free one (see {@linkcode ChatServer.addr}).
   *
   * @default {7687}
   */
  port?: number;
  /**
   * Longest line relayed, in bytes of content. A client that sends a longer
   * line is disconnected and nothing of that line is relayed.
   *
   * @default {65536}
   */
  maxLineBytes?: number;
  /**
   * Most bytes queued for one client; beyond it the client is disconnected
   * as a slow consumer. Must be at least `maxLineBytes + 2`.
   *
   * @default {4194304}
   */
  maxPendingBytes?: number;
  /**
   * Most clients connected at once; one more is accepted and closed.
   *
   * @default {10000}
   */
  maxClients?: number;
  /**
   * On shutdown, how long to keep writing pending output before closing.
   *
   * @default {2000}
   */
  shutdownGraceMs?: number;
  /**
   * Where events go.
   *
   * @default {new Logger()}
   */
  logger?: Logger;
}

/**
 * A running server. Start one with {@linkcode serve}.
 *
 * @example
 * ```ts
 * import { serve } from "./chat_server.ts";
 * import { Logger } from "./logger.ts";
 *
 * const server = serve({ port: 0, logger: new Logger({ write: () => {} }) });
 * console.log(`listening on port ${server.addr.port}`);
 * await server.shutdown();
 * ```
 */
export class ChatServer {
  /** The room every client joins. */
  readonly room: Room<ClientConnection> = new Room();
  /** Counters: accepted, served, bytes, closes by reason. */
  readonly stats: ServerStats = new ServerStats();
  /** The address actually listened on (the real port when 0 was asked). */
  readonly addr: Deno.NetAddr;
  /** The limits in force. */
  readonly limits: {
    readonly maxLineBytes: number;
    readonly maxPendingBytes: number;
    readonly maxClients: number;
  };

  readonly #listener: Deno.Listener;
  readonly #logger: Logger;
  readonly #shutdownGraceMs: number;
  readonly #clients = new Set<ClientConnection>();
  readonly #accepting: Promise<void>;
  #nextId = 1;
  #shutdown: Promise<LogFields> | undefined;

  /** Listens at once; throws `Deno.errors.AddrInUse` and the like. */
  constructor(options: ChatServerOptions = {}) {
    this.limits = {
      maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      maxPendingBytes: options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
      maxClients: options.maxClients ?? DEFAULT_MAX_CLIENTS,
    };
    if (this.limits.maxPendingBytes < this.limits.maxLineBytes + 2) {
      throw new RangeError(
        "maxPendingBytes must be at least maxLineBytes + 2, or no line of " +
          "the maximum length could ever be queued",
      );
    }
    this.#logger = options.logger ?? new Logger();
    this.#shutdownGraceMs = options.shutdownGraceMs ?? 2000;
    this.#listener = Deno.listen({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? DEFAULT_PORT,
      transport: "tcp",
    });
    this.addr = this.#listener.addr as Deno.NetAddr;
    this.#logger.event("listening", {
      addr: `${this.addr.hostname}:${this.addr.port}`,
      max_line_bytes: this.limits.maxLineBytes,
      max_pending_bytes: this.limits.maxPendingBytes,
      max_clients: this.limits.maxClients,
    });
    this.#accepting = this.#acceptLoop();
  }

  /** Clients connected now (including ones finishing their output). */
  get clientCount(): number {
    return this.#clients.size;
  }

  /**
   * Stops accepting, flushes pending output for at most the grace period,
   * closes every client and resolves with the summary it logged. Calling it
   * again returns the same promise.
   */
  shutdown(): Promise<LogFields> {
    this.#shutdown ??= this.#stop();
    return this.#shutdown;
  }

  async #stop(): Promise<LogFields> {
    this.#listener.close();
    await this.#accepting;
    await Promise.all(
      [...this.#clients].map((client) =>
        client.closeAfterFlush("shutdown", this.#shutdownGraceMs)
      ),
    );
    const summary = this.stats.summary(this.room);
    this.#logger.event("shutdown", summary);
    return summary;
  }

  async #acceptLoop(): Promise<void> {
    const context = {
      room: this.room,
      stats: this.stats,
      logger: this.#logger,
      maxLineBytes: this.limits.maxLineBytes,
      maxPendingBytes: this.limits.maxPendingBytes,
      onClosed: (client: ClientConnection) => this.#clients.delete(client),
    };
    while (this.#shutdown === undefined) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#shutdown !== undefined) return;
        // EMFILE and friends: report, back off briefly, keep serving.
        this.#logger.event("accept-error", { error: String(error) });
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      this.stats.accepted++;
      if (this.#clients.size >= this.limits.maxClients) {
        this.#reject(conn);
        continue;
      }
      const client = new ClientConnection(this.#nextId++, conn, context);
      try {
        (conn as Deno.TcpConn).setNoDelay(true);
      } catch {
        // The peer is already gone; its first read will say so.
      }
      this.#clients.add(client);
      this.room.join(client);
      this.stats.clientsServed++;
      this.#logger.event("connect", {
        id: client.id,
        addr: client.addr,
        clients: this.#clients.size,
      });
      client.run();
    }
  }

  #reject(conn: Deno.Conn): void {
    const remote = conn.remoteAddr as Deno.NetAddr;
    try {
      conn.close();
    } catch {
      // Already gone.
    }
    this.stats.closes["server-full"]++;
    this.#logger.event("reject", {
      addr: `${remote.hostname}:${remote.port}`,
      reason: "server-full",
      clients: this.#clients.size,
    });
  }
}

/**
 * Starts a line-chat server; see {@linkcode ChatServerOptions}.
 *
 * @example
 * ```ts
 * import { serve } from "./chat_server.ts";
 * import { Logger } from "./logger.ts";
 *
 * const server = serve({ port: 0, logger: new Logger({ quiet: true, write: () => {} }) });
 * await server.shutdown();
 * ```
 */
export function serve(options: ChatServerOptions = {}): ChatServer {
  return new ChatServer(options);
}
