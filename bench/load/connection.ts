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

import type { LineConn } from "../../client/chat_client.ts";
import { WebSocketConn } from "../../client/websocket_conn.ts";
import { formatTarget } from "../../lib/args.ts";
import {
  type Endpoint,
  type EndpointKind,
  formatEndpoint,
  parseEndpoint,
} from "../../lib/endpoint.ts";
import { writeAll } from "./_util.ts";

/** How a client reaches the server (see `lib/endpoint.ts`). */
export type TargetKind = EndpointKind;

/** A server endpoint the clients connect to. */
export type LoadTarget = Endpoint;

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

/** Parses a target: {@linkcode parseEndpoint}, the one parser of all tools. */
export const parseLoadTarget: (text: string) => LoadTarget = parseEndpoint;

/** A target as text: {@linkcode formatEndpoint}. */
export const formatLoadTarget: (target: LoadTarget) => string = formatEndpoint;

/** Options for {@linkcode connectClient}. */
export interface ConnectClientOptions {
  /**
   * Certificates (PEM) to trust besides the system's, for `tls` and `wss`.
   *
   * @default {[]}
   */
  caCerts?: string[];
}

/**
 * A client's connection, whatever its transport: over WebSocket too it is
 * a stream of lines (`client/websocket_conn.ts`), read on demand, so a
 * receiver that stops reading stops as it would over TCP.
 */
export type LoadConnection = StreamConnection;

/**
 * A client over a byte stream (TCP or TLS, or a WebSocket that reads and
 * writes like one: one message per line, each read as ending in CR LF):
 * lines are written as bytes ending in LF, and read by whoever holds
 * {@linkcode StreamConnection.conn}.
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
  readonly conn: LineConn;

  /** Wraps `conn`. */
  constructor(conn: LineConn) {
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
  return new StreamConnection(await connectStream(target, options));
}

/**
 * A client that connects and never reads (a slow consumer); over
 * WebSocket it completes the upgrade, then reads nothing more.
 *
 * @example
 * ```ts ignore
 * import { connectSilent, parseLoadTarget } from "./connection.ts";
 * const slow = await connectSilent(parseLoadTarget("ws://127.0.0.1:7688/ws"));
 * ```
 */
export function connectSilent(
  target: LoadTarget,
  options: ConnectClientOptions = {},
): Promise<StreamConnection> {
  return connectClient(target, options);
}

async function connectStream(
  target: LoadTarget,
  options: ConnectClientOptions,
): Promise<LineConn> {
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
  let conn: Deno.Conn = tcp;
  if (target.kind === "tls" || target.kind === "wss") {
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
    conn = secure;
  }
  if (target.kind !== "ws" && target.kind !== "wss") return conn;
  return await WebSocketConn.open(conn, {
    host: formatTarget(target),
    path: target.path,
    // Any line the tool sends (--size ≤ 1 MiB) fits; a server cannot make
    // a client hold more.
    maxMessageBytes: 2 * 1024 * 1024,
  });
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
