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
import {
  ClientConnection,
  type ConnectionContext,
} from "./client_connection.ts";
import { listenDeno } from "./deno_transport.ts";
import { type LogFields, Logger } from "./logger.ts";
import { listenNode } from "./node_transport.ts";
import { Room } from "./room.ts";
import { ServerStats } from "./stats.ts";
import type {
  ListenOptions,
  Transport,
  TransportListener,
} from "./transport.ts";

/** Options for {@linkcode serve} and {@linkcode listen}. */
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
  /**
   * How TCP is served: `"deno"` with `Deno.listen`, or `"node"` with
   * `node:net`, which holds less memory per idle connection. Only
   * {@linkcode listen} offers `"node"` ({@linkcode serve} is synchronous).
   *
   * @default {"deno"}
   */
  transport?: "deno" | "node";
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
  readonly addr: { readonly hostname: string; readonly port: number };
  /** The limits in force. */
  readonly limits: {
    readonly maxLineBytes: number;
    readonly maxPendingBytes: number;
    readonly maxClients: number;
  };

  readonly #listener: TransportListener;
  readonly #logger: Logger;
  readonly #shutdownGraceMs: number;
  readonly #clients = new Set<ClientConnection>();
  readonly #context: ConnectionContext;
  #nextId = 1;
  #shutdown: Promise<LogFields> | undefined;

  /**
   * Starts listening through `startListening`, which gets the callbacks
   * for accepted connections; most code calls {@linkcode serve} or
   * {@linkcode listen} instead.
   */
  constructor(
    options: ChatServerOptions,
    startListening: (options: ListenOptions) => TransportListener,
  ) {
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
    this.#context = {
      room: this.room,
      stats: this.stats,
      logger: this.#logger,
      maxLineBytes: this.limits.maxLineBytes,
      maxPendingBytes: this.limits.maxPendingBytes,
      onClosed: (client: ClientConnection) => this.#clients.delete(client),
    };
    this.#listener = startListening({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? DEFAULT_PORT,
      onConnection: (transport) => this.#admit(transport),
      onAcceptError: (error) => {
        this.#logger.event("accept-error", { error: String(error) });
      },
    });
    this.addr = this.#listener.addr;
    this.#logger.event("listening", {
      addr: `${this.addr.hostname}:${this.addr.port}`,
      transport: options.transport ?? "deno",
      max_line_bytes: this.limits.maxLineBytes,
      max_pending_bytes: this.limits.maxPendingBytes,
      max_clients: this.limits.maxClients,
    });
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
    // Some listeners only finish closing once their connections have.
    const listenerClosed = this.#listener.close();
    await Promise.all(
      [...this.#clients].map((client) =>
        client.closeAfterFlush("shutdown", this.#shutdownGraceMs)
      ),
    );
    await listenerClosed;
    const summary = this.stats.summary(this.room);
    this.#logger.event("shutdown", summary);
    return summary;
  }

  #admit(transport: Transport): void {
    this.stats.accepted++;
    if (this.#shutdown !== undefined) {
      transport.close();
      return;
    }
    if (this.#clients.size >= this.limits.maxClients) {
      transport.close();
      this.stats.closes["server-full"]++;
      this.#logger.event("reject", {
        addr: transport.remoteAddr,
        reason: "server-full",
        clients: this.#clients.size,
      });
      return;
    }
    const client = new ClientConnection(
      this.#nextId++,
      transport,
      this.#context,
    );
    this.#clients.add(client);
    this.room.join(client);
    this.stats.clientsServed++;
    this.#logger.event("connect", {
      id: client.id,
      addr: client.addr,
      clients: this.#clients.size,
    });
    client.start();
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
  if (options.transport === "node") {
    throw new TypeError(
      'serve() is synchronous: use listen() for transport "node"',
    );
  }
  return new ChatServer(options, listenDeno);
}

/**
 * Starts a line-chat server with either transport; resolves once it
 * listens, or rejects (e.g. with `Deno.errors.AddrInUse`).
 *
 * @example
 * ```ts
 * import { listen } from "./chat_server.ts";
 * import { Logger } from "./logger.ts";
 *
 * const server = await listen({
 *   port: 0,
 *   transport: "node",
 *   logger: new Logger({ write: () => {} }),
 * });
 * await server.shutdown();
 * ```
 */
export async function listen(
  options: ChatServerOptions = {},
): Promise<ChatServer> {
  if (options.transport !== "node") return serve(options);
  // node:net listens asynchronously, before the server exists to take its
  // connections; none arrives before the server below replaces these.
  const forward: Pick<ListenOptions, "onConnection" | "onAcceptError"> = {
    onConnection: (transport) => transport.close(),
    onAcceptError: () => {},
  };
  const listener = await listenNode({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? DEFAULT_PORT,
    onConnection: (transport) => forward.onConnection(transport),
    onAcceptError: (error) => forward.onAcceptError(error),
  });
  return new ChatServer(options, (callbacks) => {
    forward.onConnection = callbacks.onConnection;
    forward.onAcceptError = callbacks.onAcceptError;
    return listener;
  });
}
