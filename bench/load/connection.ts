/**
 * Where the load generator's clients connect, and how they speak to the
 * server: plain TCP, TLS, or WebSocket (PROTOCOL.md §6: one message is
 * one line, a binary message a line of bytes). A {@linkcode LoadTarget}
 * is parsed from `host:port`, `tls://host:port` or `ws://host:port/path`
 * (`wss://` too); {@linkcode connectClient} opens a
 * {@linkcode LoadConnection} to it, which the receivers read and the
 * senders write lines to, whatever the transport.
 *
 * @module
 */

import { formatTarget, parseTarget, UsageError } from "../../lib/args.ts";
import { writeAll } from "./_util.ts";

/** How a client reaches the server. */
export type TargetKind = "tcp" | "tls" | "ws" | "wss";

/** A server endpoint the clients connect to. */
export interface LoadTarget {
  /** The transport. */
  kind: TargetKind;
  /** Host name or address. */
  hostname: string;
  /** Port. */
  port: number;
  /** The WebSocket path (`/ws`); empty for TCP and TLS. */
  path: string;
}

/** A target as options give it: only the port is required. */
export interface LoadTargetSpec {
  /** @default {"tcp"} */
  kind?: TargetKind;
  /** @default {"127.0.0.1"} */
  hostname?: string;
  /** Port. */
  port: number;
  /** @default {"/ws" for WebSocket, else ""} */
  path?: string;
}

/**
 * Fills in a target's defaults.
 *
 * @example
 * ```ts
 * import { resolveTarget } from "./connection.ts";
 * console.log(resolveTarget({ port: 7000, kind: "ws" }));
 * // { kind: "ws", hostname: "127.0.0.1", port: 7000, path: "/ws" }
 * ```
 */
export function resolveTarget(spec: LoadTargetSpec): LoadTarget {
  const kind = spec.kind ?? "tcp";
  const web = kind === "ws" || kind === "wss";
  return {
    kind,
    hostname: spec.hostname ?? "127.0.0.1",
    port: spec.port,
    path: web ? spec.path || "/ws" : "",
  };
}

/**
 * Parses a target: `host:port` (TCP, as `lib/args.ts` reads it),
 * `tls://host:port`, or `ws://host:port/path` and `wss://…` (the path
 * defaults to `/ws`). Throws a one-line `UsageError`.
 *
 * @example
 * ```ts
 * import { parseLoadTarget } from "./connection.ts";
 * console.log(parseLoadTarget("ws://127.0.0.1:7688/ws").kind); // "ws"
 * console.log(parseLoadTarget("tls://localhost:7687").hostname); // "localhost"
 * console.log(parseLoadTarget(":7687").kind); // "tcp"
 * ```
 */
export function parseLoadTarget(text: string): LoadTarget {
  const scheme = /^([a-z]+):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) return resolveTarget(parseTarget(text));
  if (scheme === "tls") {
    return resolveTarget({
      ...parseTarget(text.slice("tls://".length)),
      kind: "tls",
    });
  }
  if (scheme !== "ws" && scheme !== "wss") {
    throw new UsageError(
      `bad target "${text}": use HOST:PORT, tls://HOST:PORT or ws://HOST:PORT/PATH`,
    );
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`bad target "${text}": not a URL`);
  }
  const port = url.port === ""
    ? (scheme === "ws" ? 80 : 443)
    : Number(url.port);
  return resolveTarget({
    kind: scheme,
    hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port,
    path: `${url.pathname}${url.search}`,
  });
}

/**
 * A target as text: the inverse of {@linkcode parseLoadTarget}.
 *
 * @example
 * ```ts
 * import { formatLoadTarget } from "./connection.ts";
 * console.log(formatLoadTarget({ kind: "ws", hostname: "::1", port: 80, path: "/ws" })); // "ws://[::1]:80/ws"
 * ```
 */
export function formatLoadTarget(target: LoadTarget): string {
  const where = formatTarget(target);
  if (target.kind === "tcp") return where;
  if (target.kind === "tls") return `tls://${where}`;
  return `${target.kind}://${where}${target.path}`;
}

/** Options for {@linkcode connectClient}. */
export interface ConnectClientOptions {
  /**
   * Certificates (PEM) to trust besides the system's, for `tls` and `wss`.
   *
   * @default {[]}
   */
  caCerts?: string[];
}

/** A client's connection, whatever its transport. */
export type LoadConnection = StreamConnection | WebSocketConnection;

/**
 * A client over a byte stream (TCP or TLS): lines are written as bytes
 * ending in LF, and read by whoever holds {@linkcode StreamConnection.conn}.
 *
 * @example
 * ```ts ignore
 * import { StreamConnection } from "./connection.ts";
 * const client = new StreamConnection(await Deno.connect({ port: 7687 }));
 * await client.writeLines(new TextEncoder().encode("hello\n"));
 * client.close();
 * ```
 */
export class StreamConnection {
  /** A stream: read it in a loop, frame it with a `LineSplitter`. */
  readonly kind = "stream";
  /** The socket. */
  readonly conn: Deno.Conn;

  /** Wraps `conn`. */
  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  /** Writes LF-ended lines; resolves once the socket took all of them. */
  writeLines(bytes: Uint8Array): Promise<void> {
    return writeAll(this.conn, bytes);
  }

  /** Closes the socket (again is a no-op). */
  close(): void {
    try {
      this.conn.close();
    } catch {
      // Closed already.
    }
  }
}

/**
 * Bytes a WebSocket may hold unsent before {@linkcode WebSocketConnection}
 * waits for it to drain: its stand-in for a socket that will not take
 * more (the server is not reading).
 *
 * @example
 * ```ts
 * import { WEBSOCKET_HIGH_WATER_BYTES } from "./connection.ts";
 * console.log(WEBSOCKET_HIGH_WATER_BYTES); // 262144
 * ```
 */
export const WEBSOCKET_HIGH_WATER_BYTES = 256 * 1024;

/**
 * A client over WebSocket (Deno's own client): each line is one message
 * each way (§6.1). The receive side is event-driven: set
 * {@linkcode WebSocketConnection.onMessage} and
 * {@linkcode WebSocketConnection.onClose}.
 *
 * @example
 * ```ts ignore
 * import { connectClient, parseLoadTarget } from "./connection.ts";
 * const client = await connectClient(parseLoadTarget("ws://127.0.0.1:7688/ws"));
 * if (client.kind === "websocket") client.onMessage = (data) => console.log(data);
 * ```
 */
export class WebSocketConnection {
  /** Messages, each one line. */
  readonly kind = "websocket";
  /** The socket (`binaryType` is `"arraybuffer"`). */
  readonly socket: WebSocket;
  /** Called with each message: text, or the bytes of a binary one. */
  onMessage: (data: string | ArrayBuffer) => void = () => {};
  /** Called once when the connection has closed, by either side. */
  onClose: () => void = () => {};
  #closed = false;

  /** Wraps an open `socket`. */
  constructor(socket: WebSocket) {
    this.socket = socket;
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => this.onMessage(event.data);
    const closed = () => {
      if (this.#closed) return;
      this.#closed = true;
      this.onClose();
    };
    socket.onclose = closed;
    socket.onerror = closed;
  }

  /** Whether the connection has closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends each LF-ended line of `bytes` as one binary message; resolves
   * once the socket holds less than {@linkcode WEBSOCKET_HIGH_WATER_BYTES}
   * unsent. Rejects when the connection is closed.
   */
  async writeLines(bytes: Uint8Array): Promise<void> {
    const socket = this.socket;
    let start = 0;
    while (start < bytes.length) {
      let end = bytes.indexOf(0x0a, start);
      if (end === -1) end = bytes.length;
      if (socket.readyState !== WebSocket.OPEN) {
        throw new Deno.errors.BrokenPipe("the WebSocket is closed");
      }
      socket.send(bytes.subarray(start, end));
      start = end + 1;
    }
    while (socket.bufferedAmount >= WEBSOCKET_HIGH_WATER_BYTES) {
      if (socket.readyState !== WebSocket.OPEN) {
        throw new Deno.errors.BrokenPipe("the WebSocket is closed");
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /** Closes the connection (again is a no-op). */
  close(): void {
    try {
      this.socket.close();
    } catch {
      // Closed already.
    }
  }
}

/**
 * Connects one client to `target`. Rejects with the transport's error:
 * `Deno.errors.ConnectionRefused`, a TLS handshake's error, or, for
 * WebSocket, an `Error` with the socket's message.
 *
 * @example
 * ```ts ignore
 * import { connectClient, parseLoadTarget } from "./connection.ts";
 * const client = await connectClient(parseLoadTarget("tls://localhost:7687"), { caCerts: [ca] });
 * await client.writeLines(new TextEncoder().encode("hi\n"));
 * client.close();
 * ```
 */
export async function connectClient(
  target: LoadTarget,
  options: ConnectClientOptions = {},
): Promise<LoadConnection> {
  if (target.kind === "ws" || target.kind === "wss") {
    return await openWebSocket(target, options);
  }
  return new StreamConnection(await connectStream(target, options));
}

/**
 * A client that connects and never reads (a slow consumer), as a raw
 * stream: for a WebSocket target it sends the HTTP upgrade request itself
 * and then reads nothing, which Deno's own client cannot do (it always
 * reads).
 *
 * @example
 * ```ts ignore
 * import { connectSilent, parseLoadTarget } from "./connection.ts";
 * const slow = await connectSilent(parseLoadTarget("ws://127.0.0.1:7688/ws"));
 * ```
 */
export async function connectSilent(
  target: LoadTarget,
  options: ConnectClientOptions = {},
): Promise<StreamConnection> {
  const web = target.kind === "ws" || target.kind === "wss";
  const conn = await connectStream(
    web ? { ...target, kind: target.kind === "wss" ? "tls" : "tcp" } : target,
    options,
  );
  if (web) {
    const key = btoa(
      String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))),
    );
    const request =
      `GET ${target.path} HTTP/1.1\r\nHost: ${
        formatTarget(target)
      }\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    await writeAll(conn, new TextEncoder().encode(request));
  }
  return new StreamConnection(conn);
}

async function connectStream(
  target: LoadTarget,
  options: ConnectClientOptions,
): Promise<Deno.Conn> {
  const tcp = await Deno.connect({
    hostname: target.hostname,
    port: target.port,
    transport: "tcp",
  });
  try {
    tcp.setNoDelay(true);
  } catch {
    // Already reset: the read loop will see it.
  }
  if (target.kind !== "tls" && target.kind !== "wss") return tcp;
  const secure = await Deno.startTls(tcp, {
    hostname: target.hostname,
    caCerts: options.caCerts,
  });
  try {
    await secure.handshake();
  } catch (error) {
    secure.close();
    throw tlsError(error);
  }
  return secure;
}

/**
 * A failed TLS handshake as an error whose message says so and, for an
 * untrusted certificate, what to do: it names the run's failure.
 */
function tlsError(error: unknown): unknown {
  const message = error instanceof Error ? error.message : String(error);
  if (!/certificate|tls|handshake|alert/i.test(message)) return error;
  return new Error(
    /UnknownIssuer|self.signed/i.test(message)
      ? `TLS handshake failed: ${message} (trust its CA with --ca FILE)`
      : `TLS handshake failed: ${message}`,
  );
}

function openWebSocket(
  target: LoadTarget,
  options: ConnectClientOptions,
): Promise<WebSocketConnection> {
  const url = formatLoadTarget(target);
  const client = target.kind === "wss" && options.caCerts?.length
    ? Deno.createHttpClient({ caCerts: options.caCerts })
    : undefined;
  const socket = client ? new WebSocket(url, { client }) : new WebSocket(url);
  return new Promise((resolve, reject) => {
    socket.onopen = () => {
      socket.onopen = socket.onerror = socket.onclose = null;
      resolve(new WebSocketConnection(socket));
    };
    socket.onerror = (event) => {
      socket.onopen = socket.onerror = socket.onclose = null;
      const message = (event as ErrorEvent).message || "WebSocket error";
      reject(
        /tcp connect error|Connection refused/i.test(message)
          ? new Deno.errors.ConnectionRefused(message)
          : /certificate/i.test(message)
          ? tlsError(new Error(message.replace(/^.*WebSocket: /, "")))
          : new Error(message),
      );
    };
    socket.onclose = (event) => {
      socket.onopen = socket.onerror = socket.onclose = null;
      reject(new Error(`the server closed the WebSocket (${event.code})`));
    };
  });
}
