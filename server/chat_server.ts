/**
 * The TCP line-chat server: listening, admission, and graceful shutdown.
 *
 * @module
 */

import {
  DEFAULT_MAX_CLIENTS,
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_MAX_PENDING_BYTES,
  DEFAULT_MAX_TOTAL_PENDING_BYTES,
  DEFAULT_PORT,
  DEFAULT_WRITE_TIMEOUT_MS,
} from "../protocol/limits.ts";
import { maxLineCost } from "./batch.ts";
import {
  ClientConnection,
  type ConnectionContext,
  type ConnectionLimits,
} from "./client_connection.ts";
import { listenDeno } from "./deno_transport.ts";
import { DEFAULT_MAX_CONTROL_RATE, type InputRate } from "./input_throttle.ts";
import { type LogFields, Logger } from "./logger.ts";
import { listenNode } from "./node_transport.ts";
import { Room } from "./room.ts";
import {
  DEFAULT_SENDER_WAIT_MS,
  DEFAULT_SENDER_WINDOW_BYTES,
} from "./sender_window.ts";
import { ServerStats } from "./stats.ts";
import { listenHttp } from "./http_server.ts";
import { formatMetrics, type MetricFamily } from "./metrics.ts";
import { serverMetrics } from "./server_metrics.ts";
import {
  formatAddr,
  type ListenOptions,
  type TlsFiles,
  type Transport,
  type TransportKind,
  type TransportListener,
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
   * Most bytes of pending output one client may hold, at real cost (each
   * queued batch is charged its payload plus 64 bytes); beyond it the
   * client is disconnected as a slow consumer. Must be at least
   * `maxLineBytes + 66`, the cost of one longest line.
   *
   * @default {4194304}
   */
  maxPendingBytes?: number;
  /**
   * Most bytes of pending output all clients together may hold, at real
   * cost; over it, the clients holding the most are disconnected as slow
   * consumers until the total is back under 90 % of it.
   *
   * @default {1073741824}
   */
  maxTotalPendingBytes?: number;
  /**
   * A client whose pending output has not shrunk for this long (ms) is
   * disconnected as a slow consumer, whatever its size.
   *
   * @default {30000}
   */
  writeTimeoutMs?: number;
  /**
   * Flood control: most bytes (at real cost) of one sender's lines that
   * recipients may not yet have taken; at it, the server stops reading
   * from the sender until they have taken half (PROTOCOL.md §4.9).
   *
   * @default {262144}
   */
  senderWindowBytes?: number;
  /**
   * Flood control: longest a sender is held back by recipients that take
   * nothing of its output; they are then left to the slow-consumer limits.
   *
   * @default {1000}
   */
  senderWaitMs?: number;
  /**
   * A client that received more while its last write was out waits this
   * long (ms) before its next write, gathering what arrives meanwhile into
   * one write: fewer write calls per delivery under load, no delay for a
   * client that is idle. 0: write again at once.
   *
   * @default {0}
   */
  writeCoalesceMs?: number;
  /**
   * Most clients connected at once; one more is accepted and closed.
   *
   * @default {10000}
   */
  maxClients?: number;
  /**
   * Most clients from one address at once (0: no limit); one more is
   * accepted and closed with reason `ip-limit`.
   *
   * @default {0}
   */
  maxClientsPerIp?: number;
  /**
   * A client that sends nothing for this long (ms) is disconnected with
   * reason `idle-timeout` (0: never). This cuts silent readers too.
   *
   * @default {0}
   */
  idleTimeoutMs?: number;
  /**
   * A client that leaves a line unfinished for this long (ms) is
   * disconnected with reason `line-timeout` (0: never), e.g. a slowloris.
   *
   * @default {0}
   */
  lineTimeoutMs?: number;
  /**
   * Most input one client may send per second; a faster client is read
   * more slowly, never disconnected.
   *
   * @default {undefined (no cap)}
   */
  maxInputRate?: InputRate;
  /**
   * Most frames per second that carry no line (pings, pongs, fragments of
   * a message) one WebSocket client may send; more are read more slowly,
   * never a disconnect. They cost the server work but are not lines, so
   * flood control does not slow them. `0`: no cap.
   *
   * @default {100}
   */
  maxControlRate?: number;
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
   * How TCP is served: `"node"` with `node:net`, which holds less memory
   * per idle connection and costs less CPU per write, or `"deno"` with
   * `Deno.listen`, the only one that serves TLS. {@linkcode listen}
   * defaults to `"node"` (to `"deno"` with `tls`), as the command line
   * does; {@linkcode serve} is synchronous and offers `"deno"` only.
   *
   * @default {"node"} in `listen()`, `"deno"` in `serve()` or with `tls`
   */
  transport?: "deno" | "node";
  /**
   * The ops port: the web page at `/`, WebSocket clients at `/ws`,
   * `/metrics` and `/healthz` (see {@linkcode listenHttp}); `0` picks a
   * free port. Off when unset.
   *
   * @default {undefined}
   */
  httpPort?: number;
  /**
   * Ops port: most connections sending their request head at once; when
   * full, the one waiting longest is closed for a newcomer.
   *
   * @default {256}
   */
  httpMaxPending?: number;
  /**
   * Ops port: most of those from one address; a newcomer from it closes
   * its longest waiting.
   *
   * @default {256: no share smaller than the whole}
   */
  httpMaxPendingPerIp?: number;
  /**
   * Serve TLS on the TCP port, and HTTPS/WSS on the ops port, with this
   * certificate and key (PEM text). `"deno"` transport only.
   *
   * @default {undefined}
   */
  tls?: TlsFiles;
  /**
   * More metric families for `/metrics` (a cluster node's bus).
   *
   * @default {() => []}
   */
  extraMetrics?: () => MetricFamily[];
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
  /** The ops port's address, when `httpPort` was given. */
  readonly httpAddr:
    | { readonly hostname: string; readonly port: number }
    | undefined;
  /** Clients connected now, by what carries them. */
  readonly clientsByKind: Record<TransportKind, number> = {
    tcp: 0,
    tls: 0,
    ws: 0,
    wss: 0,
  };
  /** The limits in force. */
  readonly limits: ConnectionLimits & {
    readonly maxClients: number;
    readonly maxClientsPerIp: number;
  };
  /** The cost of every client's pending output together, in bytes. */
  readonly ledger = { total: 0 };

  readonly #listener: TransportListener;
  readonly #http: TransportListener | undefined;
  readonly #logger: Logger;
  readonly #shutdownGraceMs: number;
  readonly #clients = new Set<ClientConnection>();
  /** Clients per address, only while `maxClientsPerIp` is set. */
  readonly #perHost = new Map<string, number>();
  readonly #context: ConnectionContext;
  readonly #sweeper: ReturnType<typeof setInterval>;
  #nextId = 1;
  #trimming = false;
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
      maxTotalPendingBytes: options.maxTotalPendingBytes ??
        DEFAULT_MAX_TOTAL_PENDING_BYTES,
      writeTimeoutMs: options.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS,
      senderWindowBytes: options.senderWindowBytes ??
        DEFAULT_SENDER_WINDOW_BYTES,
      senderWaitMs: options.senderWaitMs ?? DEFAULT_SENDER_WAIT_MS,
      writeCoalesceMs: options.writeCoalesceMs ?? 0,
      maxClients: options.maxClients ?? DEFAULT_MAX_CLIENTS,
      maxClientsPerIp: options.maxClientsPerIp ?? 0,
      idleTimeoutMs: options.idleTimeoutMs ?? 0,
      lineTimeoutMs: options.lineTimeoutMs ?? 0,
      maxInputRate: options.maxInputRate,
      maxControlRate: options.maxControlRate ?? DEFAULT_MAX_CONTROL_RATE,
    };
    const longestLineCost = maxLineCost(this.limits.maxLineBytes);
    if (this.limits.maxPendingBytes < longestLineCost) {
      throw new RangeError(
        `maxPendingBytes must be at least maxLineBytes + ${
          longestLineCost - this.limits.maxLineBytes
        }, or no line of the maximum length could ever be queued`,
      );
    }
    if (this.limits.maxTotalPendingBytes < this.limits.maxPendingBytes) {
      throw new RangeError(
        "maxTotalPendingBytes must be at least maxPendingBytes",
      );
    }
    this.#logger = options.logger ?? new Logger();
    this.#shutdownGraceMs = options.shutdownGraceMs ?? 2000;
    this.#context = {
      room: this.room,
      stats: this.stats,
      logger: this.#logger,
      limits: this.limits,
      ledger: this.ledger,
      onOverTotal: () => this.#trimOutput(),
      onClosed: (client: ClientConnection) => this.#closed(client),
    };
    const sweepMs = sweepInterval(this.limits);
    this.#sweeper = setInterval(() => {
      const now = Date.now();
      for (const client of this.#clients) client.sweep(now);
    }, sweepMs);
    Deno.unrefTimer(this.#sweeper);
    if (options.tls !== undefined && options.transport === "node") {
      throw new TypeError('tls needs transport "deno"');
    }
    this.#listener = startListening({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? DEFAULT_PORT,
      tls: options.tls,
      onConnection: (transport) => this.#admit(transport),
      onAcceptError: (error) => {
        this.stats.acceptErrors++;
        this.#logger.repeated("accept-error", { error: String(error) });
      },
    });
    this.addr = this.#listener.addr;
    this.#http = options.httpPort === undefined ? undefined : listenHttp({
      hostname: options.hostname ?? "127.0.0.1",
      port: options.httpPort,
      tls: options.tls,
      maxLineBytes: this.limits.maxLineBytes,
      onWebSocket: (transport) => this.#admit(transport),
      metrics: () =>
        formatMetrics([
          ...serverMetrics(this, this.#logger),
          ...(options.extraMetrics?.() ?? []),
        ]),
      health: () => ({
        ok: this.#shutdown === undefined,
        clients: this.#clients.size,
      }),
      onAcceptError: () => this.stats.acceptErrors++,
      maxPendingRequests: options.httpMaxPending,
      maxPendingRequestsPerIp: options.httpMaxPendingPerIp,
      onRefused: (why) => {
        this.stats.httpRefused++;
        this.#logger.repeated("http-refused", { why });
      },
    });
    this.httpAddr = this.#http?.addr;
    const limits = this.limits;
    this.#logger.event("listening", {
      addr: formatAddr(this.addr.hostname, this.addr.port),
      tls: options.tls === undefined ? undefined : true,
      http_addr: this.httpAddr === undefined
        ? undefined
        : formatAddr(this.httpAddr.hostname, this.httpAddr.port),
      transport: options.transport ?? "deno",
      max_line_bytes: limits.maxLineBytes,
      max_pending_bytes: limits.maxPendingBytes,
      max_total_pending_bytes: limits.maxTotalPendingBytes,
      write_timeout_ms: limits.writeTimeoutMs,
      sender_window_bytes: limits.senderWindowBytes,
      sender_wait_ms: limits.senderWaitMs,
      max_clients: limits.maxClients,
      max_clients_per_ip: limits.maxClientsPerIp || undefined,
      idle_timeout_ms: limits.idleTimeoutMs || undefined,
      line_timeout_ms: limits.lineTimeoutMs || undefined,
      max_input_rate: limits.maxInputRate === undefined
        ? undefined
        : formatInputRate(limits.maxInputRate),
      max_control_rate: limits.maxControlRate,
    });
  }

  /** Clients connected now (including ones finishing their output). */
  get clientCount(): number {
    return this.#clients.size;
  }

  /** Whether the server is shutting down. */
  get shuttingDown(): boolean {
    return this.#shutdown !== undefined;
  }

  /** How many log lines were dropped because stdout could not take them. */
  get logLinesDropped(): number {
    return this.#logger.dropped;
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
    // The ops port answered 503 on /healthz meanwhile; now it goes too.
    await this.#http?.close();
    clearInterval(this.#sweeper);
    const summary = this.stats.summary(this.room);
    const logDropped = this.#logger.dropped;
    if (logDropped > 0) summary.log_lines_dropped = logDropped;
    this.#logger.event("shutdown", summary);
    return summary;
  }

  #admit(transport: Transport): void {
    this.stats.accepted++;
    if (this.#shutdown !== undefined) {
      transport.close("shutdown");
      return;
    }
    const { maxClients, maxClientsPerIp } = this.limits;
    const host = transport.remoteHost;
    const fromHost = maxClientsPerIp > 0 ? this.#perHost.get(host) ?? 0 : 0;
    const refusal = this.#clients.size >= maxClients
      ? "server-full"
      : maxClientsPerIp > 0 && fromHost >= maxClientsPerIp
      ? "ip-limit"
      : undefined;
    if (refusal !== undefined) {
      transport.close(refusal);
      this.stats.closes[refusal]++;
      this.#logger.repeated("reject", {
        addr: transport.remoteAddr,
        reason: refusal,
        clients: this.#clients.size,
      });
      return;
    }
    if (maxClientsPerIp > 0) this.#perHost.set(host, fromHost + 1);
    const client = new ClientConnection(
      this.#nextId++,
      transport,
      this.#context,
    );
    this.#clients.add(client);
    this.clientsByKind[transport.kind]++;
    this.room.join(client);
    this.stats.clientsServed++;
    this.#logger.event("connect", {
      id: client.id,
      addr: client.addr,
      clients: this.#clients.size,
    });
    client.start();
  }

  #closed(client: ClientConnection): void {
    this.#clients.delete(client);
    this.clientsByKind[client.kind]--;
    if (this.limits.maxClientsPerIp === 0) return;
    const left = (this.#perHost.get(client.host) ?? 1) - 1;
    if (left > 0) this.#perHost.set(client.host, left);
    else this.#perHost.delete(client.host);
  }

  /**
   * All clients together hold more than `maxTotalPendingBytes`: cut those
   * holding the most until the total is under 90 % of it (so the next cut
   * is not one delivery away).
   */
  #trimOutput(): void {
    if (this.#trimming) return;
    this.#trimming = true;
    const limit = this.limits.maxTotalPendingBytes;
    const before = this.ledger.total;
    const holders = [...this.#clients]
      .filter((client) => client.pendingCost > 0)
      .sort((a, b) => b.pendingCost - a.pendingCost);
    let cut = 0;
    for (const client of holders) {
      if (this.ledger.total <= limit * 0.9) break;
      client.close("slow-consumer", undefined, "max-total-pending-bytes");
      cut++;
    }
    this.#logger.event("output-limit", {
      limit: "max-total-pending-bytes",
      max_total_pending_bytes: limit,
      total_before: before,
      total_after: this.ledger.total,
      clients_cut: cut,
    });
    this.#trimming = false;
  }
}

/**
 * How often the limits that need a clock are applied: a quarter of the
 * shortest of them, between 10 and 100 ms.
 */
function sweepInterval(limits: ConnectionLimits): number {
  const periods = [
    limits.senderWaitMs,
    limits.writeTimeoutMs,
    limits.idleTimeoutMs || Infinity,
    limits.lineTimeoutMs || Infinity,
  ];
  return Math.max(10, Math.min(100, Math.min(...periods) / 4));
}

/** `--max-input-rate` as given: `LINES` or `LINES/BYTES` per second. */
export function formatInputRate(rate: InputRate): string {
  return rate.bytesPerSecond === undefined
    ? `${rate.linesPerSecond}`
    : `${rate.linesPerSecond}/${rate.bytesPerSecond}`;
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
  const transport = options.transport ?? (options.tls ? "deno" : "node");
  if (transport === "deno") return serve({ ...options, transport });
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
  return new ChatServer({ ...options, transport }, (callbacks) => {
    forward.onConnection = callbacks.onConnection;
    forward.onAcceptError = callbacks.onAcceptError;
    return listener;
  });
}
