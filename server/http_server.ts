/**
 * The ops port (`--http-port`): the web chat page at `/`, WebSocket
 * clients at `/ws`, Prometheus metrics at `/metrics` and a health check at
 * `/healthz`, over HTTP or, with a certificate, HTTPS and WSS.
 *
 * It is not `Deno.serve`: Deno's WebSocket cannot stop reading a client, so
 * flood control (PROTOCOL.md §4.9) could not slow a WebSocket sender. The
 * port reads each request head itself, bounded in bytes and time, answers
 * GETs with whole responses, and hands an upgraded connection to
 * {@linkcode WebSocketTransport} on the same byte transport TCP clients use.
 *
 * @module
 */

import { listenDeno } from "./deno_transport.ts";
import {
  hasToken,
  headEnd,
  parseHead,
  type RequestHead,
  response,
} from "./_http_request.ts";
import type {
  TlsFiles,
  Transport,
  TransportListener,
  TransportSink,
} from "./transport.ts";
import { WebSocketTransport } from "./websocket_transport.ts";
import { acceptKey } from "../protocol/websocket_frames.ts";

/** Options for {@linkcode listenHttp}. */
export interface HttpServerOptions {
  hostname: string;
  /** `0` picks a free port (see the listener's `addr`). */
  port: number;
  /** Serve HTTPS and WSS with this certificate. */
  tls?: TlsFiles;
  /** The longest WebSocket message taken: the server's line limit. */
  maxLineBytes: number;
  /** Called with each upgraded WebSocket client, to admit it. */
  onWebSocket(transport: Transport): void;
  /** The Prometheus text for `/metrics`. */
  metrics(): string;
  /** What `/healthz` says: 200 while accepting, 503 while stopping. */
  health(): { ok: boolean; clients: number };
  /** Called when an accept fails. */
  onAcceptError(error: unknown): void;
  /**
   * Where the page's files are: `index.html`, `app.js`, `escape.js`,
   * `style.css`.
   *
   * @default {the repository's web/}
   */
  webRoot?: string;
  /**
   * Most bytes of a request head.
   *
   * @default {16384}
   */
  maxRequestBytes?: number;
  /**
   * How long a connection may take to send its request head.
   *
   * @default {10000}
   */
  requestTimeoutMs?: number;
  /**
   * Most connections sending their request head at once. When full, the
   * one waiting longest is closed to make room: a flood of half-sent
   * requests holds bounded file descriptors and cannot lock others out,
   * since a real request's head takes milliseconds.
   *
   * @default {256}
   */
  maxPendingRequests?: number;
  /**
   * Most of those from one address; a newcomer from it closes the one of
   * its address waiting longest. Off by default: many clients may share
   * one address (a proxy, a NAT), and closing the longest waiting already
   * keeps half-sent heads from locking anyone out.
   *
   * @default {256}
   */
  maxPendingRequestsPerIp?: number;
  /**
   * Called for each connection closed for these two limits: `"per-ip"`
   * when its address held its share, `"evicted"` when all were held.
   *
   * @default {nothing}
   */
  onRefused?: (why: "evicted" | "per-ip") => void;
}

const PAGE_FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/index.html": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/escape.js": { file: "escape.js", type: "text/javascript; charset=utf-8" },
  "/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
};

/** Headers every page response carries: no sniffing, no foreign code. */
const PAGE_HEADERS = {
  "Cache-Control": "no-cache",
  "X-Content-Type-Options": "nosniff",
  "Content-Security-Policy":
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'",
  "Referrer-Policy": "no-referrer",
};

const encoder = new TextEncoder();

/**
 * Listens on the ops port; throws at once if it cannot (e.g.
 * `Deno.errors.AddrInUse`).
 *
 * @example
 * ```ts ignore
 * import { listenHttp } from "./http_server.ts";
 * const http = listenHttp({
 *   hostname: "127.0.0.1", port: 0, maxLineBytes: 65536,
 *   onWebSocket: (transport) => server.admit(transport),
 *   metrics: () => "", health: () => ({ ok: true, clients: 0 }),
 *   onAcceptError: () => {},
 * });
 * ```
 */
export function listenHttp(options: HttpServerOptions): TransportListener {
  const files = loadPage(
    options.webRoot ?? new URL("../web/", import.meta.url).pathname,
  );
  // Insertion order: the first of each set is the one waiting longest.
  const pending = new Set<() => void>();
  const byHost = new Map<string, Set<() => void>>();
  const maxPending = options.maxPendingRequests ?? 256;
  const maxPerHost = options.maxPendingRequestsPerIp ?? 256;
  return listenDeno({
    hostname: options.hostname,
    port: options.port,
    tls: options.tls,
    onAcceptError: options.onAcceptError,
    onConnection(transport) {
      const host = transport.remoteHost;
      let mine = byHost.get(host);
      // Full: the longest waiting goes, of this address first. A newcomer
      // is never the one refused: a real request's head takes
      // milliseconds, so it is never the oldest for long.
      if (mine !== undefined && mine.size >= maxPerHost) {
        options.onRefused?.("per-ip");
        mine.values().next().value!();
      } else if (pending.size >= maxPending) {
        options.onRefused?.("evicted");
        pending.values().next().value!();
      }
      mine = byHost.get(host);
      if (mine === undefined) byHost.set(host, mine = new Set());
      const own = mine;
      let settled = false;
      let abort: (() => void) | undefined = undefined;
      abort = readRequest(transport, options, (head, rest, via) => {
        settled = true;
        if (abort) {
          pending.delete(abort);
          own.delete(abort);
        }
        if (own.size === 0 && byHost.get(host) === own) byHost.delete(host);
        if (head !== null) void answer(via, head, rest, files, options);
      });
      if (!settled) {
        pending.add(abort);
        own.add(abort);
      }
    },
  });
}

/** The page's files, read once; a missing one is answered with 404. */
function loadPage(root: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const { file } of Object.values(PAGE_FILES)) {
    try {
      files.set(file, Deno.readFileSync(`${root.replace(/\/$/, "")}/${file}`));
    } catch {
      // Served as 404.
    }
  }
  return files;
}

/**
 * A transport whose reads can be handed on: the request reader first,
 * then, after an upgrade, the WebSocket transport.
 */
class Handover implements Transport {
  readonly remoteAddr: string;
  readonly remoteHost: string;
  readonly kind: Transport["kind"];
  readonly #inner: Transport;
  #sink: TransportSink;

  constructor(inner: Transport, first: TransportSink) {
    this.#inner = inner;
    this.#sink = first;
    this.remoteAddr = inner.remoteAddr;
    this.remoteHost = inner.remoteHost;
    this.kind = inner.kind;
    inner.start({
      receive: (chunk) => this.#sink.receive(chunk),
      end: (how, error) => this.#sink.end(how, error),
    });
  }

  /** Hands later reads to `sink` (the transport already reads). */
  start(sink: TransportSink): void {
    this.#sink = sink;
  }

  pauseReading(): void {
    this.#inner.pauseReading();
  }

  resumeReading(): void {
    this.#inner.resumeReading();
  }

  write(bytes: Uint8Array): Promise<number> {
    return this.#inner.write(bytes);
  }

  close(): void {
    this.#inner.close();
  }
}

/**
 * Reads a request head, then calls `done` once: with the head and the
 * bytes after it, or with null (and the connection closed) when the head
 * is too long, too slow, or not HTTP.
 */
function readRequest(
  transport: Transport,
  options: HttpServerOptions,
  done: (head: RequestHead | null, rest: Uint8Array, via: Handover) => void,
): () => void {
  const max = options.maxRequestBytes ?? 16 * 1024;
  const buffer = new Uint8Array(max);
  let length = 0;
  let finished = false;
  const finish = (head: RequestHead | null, rest = new Uint8Array(0)) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    if (head === null) via.close();
    done(head, rest, via);
  };
  const timer = setTimeout(
    () => finish(null),
    options.requestTimeoutMs ?? 10_000,
  );
  const via: Handover = new Handover(transport, {
    receive(chunk) {
      if (finished) return;
      const room = Math.min(chunk.length, max - length);
      buffer.set(chunk.subarray(0, room), length);
      length += room;
      const end = headEnd(buffer, length);
      if (end === -1) {
        if (length === max) finish(null);
        return;
      }
      const head = parseHead(new TextDecoder().decode(buffer.subarray(0, end)));
      const rest = new Uint8Array([
        ...buffer.subarray(end, length),
        ...chunk.subarray(room),
      ]);
      // The rest of this connection is for whoever takes it over.
      via.pauseReading();
      finish(head, rest);
    },
    end: () => finish(null),
  });
  return () => finish(null);
}

function answer(
  via: Handover,
  head: RequestHead,
  rest: Uint8Array,
  files: Map<string, Uint8Array>,
  options: HttpServerOptions,
): Promise<void> {
  const send = async (bytes: Uint8Array) => {
    try {
      for (let at = 0; at < bytes.length;) {
        at += await via.write(bytes.subarray(at));
      }
    } catch {
      // The client left.
    }
    via.close();
  };
  const isHead = head.method === "HEAD";
  if (head.method !== "GET" && !isHead) {
    return send(
      text(405, "Method Not Allowed", "GET only\n", { Allow: "GET, HEAD" }),
    );
  }
  if (head.path === "/ws") {
    return upgrade(via, head, rest, options, send);
  }
  if (head.path === "/metrics") {
    return send(response(
      200,
      "OK",
      {
        "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
        "Cache-Control": "no-store",
      },
      encoder.encode(options.metrics()),
      isHead,
    ));
  }
  if (head.path === "/healthz") {
    const health = options.health();
    const body = JSON.stringify({
      status: health.ok ? "ok" : "shutting-down",
      clients: health.clients,
    }) + "\n";
    return send(response(
      health.ok ? 200 : 503,
      health.ok ? "OK" : "Service Unavailable",
      { "Content-Type": "application/json", "Cache-Control": "no-store" },
      encoder.encode(body),
      isHead,
    ));
  }
  const page = PAGE_FILES[head.path];
  const body = page && files.get(page.file);
  if (page === undefined || body === undefined) {
    return send(text(404, "Not Found", `no ${head.path} here\n`));
  }
  return send(response(
    200,
    "OK",
    { "Content-Type": page.type, ...PAGE_HEADERS },
    body,
    isHead,
  ));
}

/** Answers a WebSocket handshake (RFC 6455 §4.2) and hands the client on. */
async function upgrade(
  via: Handover,
  head: RequestHead,
  rest: Uint8Array,
  options: HttpServerOptions,
  send: (bytes: Uint8Array) => Promise<void>,
): Promise<void> {
  const key = head.headers.get("sec-websocket-key") ?? "";
  if (
    !hasToken(head.headers.get("upgrade"), "websocket") ||
    !hasToken(head.headers.get("connection"), "upgrade")
  ) {
    return send(text(426, "Upgrade Required", "a WebSocket endpoint\n", {
      Upgrade: "websocket",
    }));
  }
  if (head.headers.get("sec-websocket-version") !== "13") {
    return send(text(426, "Upgrade Required", "WebSocket version 13 only\n", {
      "Sec-WebSocket-Version": "13",
    }));
  }
  if (!/^[A-Za-z0-9+/]{22}==$/.test(key)) {
    return send(text(400, "Bad Request", "bad Sec-WebSocket-Key\n"));
  }
  const accepted = "HTTP/1.1 101 Switching Protocols\r\n" +
    "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${await acceptKey(key)}\r\n\r\n`;
  try {
    const bytes = encoder.encode(accepted);
    for (let at = 0; at < bytes.length;) {
      at += await via.write(bytes.subarray(at));
    }
  } catch {
    via.close();
    return;
  }
  const client = new WebSocketTransport(via, rest, {
    maxLineBytes: options.maxLineBytes,
    secure: via.kind === "tls",
  });
  options.onWebSocket(client);
  via.resumeReading();
}

function text(
  status: number,
  reason: string,
  body: string,
  headers: Record<string, string> = {},
): Uint8Array {
  return response(status, reason, {
    "Content-Type": "text/plain; charset=utf-8",
    ...headers,
  }, encoder.encode(body));
}
